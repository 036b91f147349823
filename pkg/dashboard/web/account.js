// The sign-up and sign-in pages.
import { account } from './api.js';
import { busy, byId, clearMessages } from './dom.js';

function credentials(prefix) {
  return [byId(`${prefix}-email`).value.trim(), byId(`${prefix}-password`).value];
}

export function signInView(app) {
  const form = byId('signin-form');
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearMessages();
    const [email, password] = credentials('signin');
    await busy(form, async () => {
      try {
        const user = await account.signIn(email, password);
        byId('signin-password').value = '';
        app.signedIn(user);
      } catch (err) {
        app.fail(err);
        byId('signin-password').select();
      }
    });
  });
  return {
    view: 'view-signin',
    title: 'Sign in',
    public: true,
    enter() {},
    leave() {},
    reset() { form.reset(); },
  };
}

export function signUpView(app) {
  const form = byId('signup-form');
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearMessages();
    const [email, password] = credentials('signup');
    await busy(form, async () => {
      try {
        const user = await account.signUp(email, password);
        byId('signup-password').value = '';
        app.signedIn(user, '#/credentials', 'Your account is ready. Create API credentials for your game servers.');
      } catch (err) {
        app.fail(err);
      }
    });
  });
  return {
    view: 'view-signup',
    title: 'Create an account',
    public: true,
    enter() {},
    leave() {},
    reset() { form.reset(); },
  };
}
