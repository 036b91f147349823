// The Leaderboard dashboard: a single page app over the same origin's /account API.
// Routes live in the URL hash: #/signin, #/signup, #/credentials, #/boards, #/board/<id>.
//
// Stable ids, for people and for the browser test (pkg/dashboard/browser_test.go):
//   error, notice               the messages: role=alert (API errors), role=status
//   nav, nav-boards, nav-credentials, account, account-email, signout
//   view-<name>                 one section per page: signin, signup, credentials,
//                               boards, board (only the current one is shown)
//   signin-form, signin-email, signin-password, signin-submit, to-signup
//   signup-form, signup-email, signup-password, signup-submit, to-signin
//   client-form, client-label, client-create
//   new-secret                  the new client's once-shown panel, with new-label,
//                               new-api-key, new-client-id, new-client-secret, their
//                               copy-api-key, copy-client-id, copy-client-secret
//                               buttons, and new-secret-done
//   clients-body                rows tr[data-client-id]; in a row, buttons
//                               [data-action=revoke], then [data-action=confirm-revoke]
//                               and [data-action=cancel-revoke]
//   boards-body, teams-body     rows tr[data-board-id] (with a link to the board) and
//                               tr[data-team-id]; pagers boards-prev/-next/-page and
//                               teams-prev/-next/-page
//   board-title, board-id, rankings-updated, rankings-pause
//   rankings-body               rows tr[data-team-id] with td.rank, td.score and the
//                               team's name as a button[data-team-id] (looks it up);
//                               pager rankings-prev/-next/-page
//   lookup-form, lookup-team, lookup-around, lookup-submit, lookup-result,
//   lookup-summary, lookup-body (the looked-up team's row is tr.is-self)
//
// Everything from users or the API reaches the page as text (textContent), never markup.
import { account } from './api.js';
import { signInView, signUpView } from './account.js';
import { boardView } from './board.js';
import { boardsView } from './boards.js';
import { credentialsView } from './credentials.js';
import { byId, clearMessages, showError, showNotice } from './dom.js';

const home = '#/boards';

const app = {
  user: null,
  boardNames: new Map(), // leaderboard id -> name, from the lists seen so far
  wanted: '', // the page asked for before signing in
  current: null, // the view shown

  // fail shows an API error; a 401 while signed in means the session has ended. Any
  // other error is this page's own bug: its detail goes to the console.
  fail(err) {
    if (typeof err.status !== 'number') {
      console.error(err);
      showError('Something went wrong in this page. Reload it and try again.');
      return;
    }
    if (err.status === 401 && app.user) {
      app.signedOut('Your session has ended. Sign in again.');
      return;
    }
    showError(err.message);
  },

  signedIn(user, to, notice) {
    app.user = user;
    byId('account-email').textContent = user.email;
    byId('nav').hidden = false;
    byId('account').hidden = false;
    const next = to ?? (app.wanted || home);
    app.wanted = '';
    go(next);
    if (notice) {
      showNotice(notice);
    }
  },

  signedOut(message) {
    app.user = null;
    app.boardNames.clear();
    byId('nav').hidden = true;
    byId('account').hidden = true;
    byId('account-email').textContent = '';
    for (const view of Object.values(views)) {
      view.leave();
      view.reset();
    }
    app.current = null;
    clearMessages();
    go('#/signin');
    if (message) {
      showError(message);
    }
  },
};

const views = {
  signin: signInView(app),
  signup: signUpView(app),
  credentials: credentialsView(app),
  boards: boardsView(app),
  board: boardView(app),
};

// parse splits "#/board/<id>" into the view's name and its parameters.
function parse(hash) {
  const [name = '', ...params] = hash.replace(/^#\/?/, '').split('/');
  try {
    return { name, params: params.map(decodeURIComponent) };
  } catch {
    return { name: '', params: [] }; // a malformed escape: no such page
  }
}

// go shows the page for hash, replacing the current history entry.
function go(hash) {
  if (location.hash !== hash) {
    history.replaceState(null, '', hash);
  }
  route();
}

let firstRoute = true;

function route() {
  const { name, params } = parse(location.hash);
  const view = views[name];
  if (!view || (name === 'board' && !params[0])) {
    go(app.user ? home : '#/signin');
    return;
  }
  if (!app.user && !view.public) {
    app.wanted = location.hash;
    go('#/signin');
    return;
  }
  if (app.user && view.public) {
    go(home);
    return;
  }
  if (app.current && app.current !== view) {
    app.current.leave();
    clearMessages();
  }
  app.current = view;
  for (const section of document.querySelectorAll('main > .view')) {
    section.hidden = section.id !== view.view;
  }
  for (const link of document.querySelectorAll('#nav a')) {
    if (link.getAttribute('href') === `#/${name}`) {
      link.setAttribute('aria-current', 'page');
    } else {
      link.removeAttribute('aria-current');
    }
  }
  document.title = `${view.title} · Leaderboard dashboard`;
  view.enter(params);
  // A new page takes the focus to its heading, as a page load would put a screen reader
  // at the top; but not on the first load, where the browser's own start is right.
  if (!firstRoute) {
    byId(view.view).querySelector('h1').focus();
  }
  firstRoute = false;
}

byId('signout').addEventListener('click', async () => {
  try {
    await account.signOut();
  } catch (err) {
    if (err.status !== 401) {
      showError(err.message);
      return;
    }
  }
  app.signedOut();
  showNotice('You are signed out.');
});

window.addEventListener('hashchange', route);

async function start() {
  try {
    const user = await account.me();
    app.signedIn(user, location.hash || home);
  } catch (err) {
    if (err.status !== 401) {
      showError(err.message);
    }
    route();
  }
}

start();
