// The credentials page: create a client (its API key and secret are shown here once),
// list the clients, revoke one after a confirmation in the row itself.
import { account } from './api.js';
import { busy, byId, clearMessages, copyText, el, showNotice, time } from './dom.js';

const secretFields = ['new-label', 'new-api-key', 'new-client-id', 'new-client-secret'];

export function credentialsView(app) {
  const form = byId('client-form');
  const body = byId('clients-body');
  const panel = byId('new-secret');
  let generation = 0;

  function hideSecret() {
    for (const id of secretFields) {
      byId(id).textContent = '';
    }
    panel.hidden = true;
  }

  function showSecret(client) {
    byId('new-label').textContent = client.label;
    byId('new-api-key').textContent = client.apiKey;
    byId('new-client-id').textContent = client.clientId;
    byId('new-client-secret').textContent = client.clientSecret;
    panel.hidden = false;
    byId('new-secret-title').focus();
  }

  function actions(client) {
    const cell = el('td', { className: 'actions' });
    if (client.status === 'active') {
      cell.append(el('button', {
        className: 'secondary',
        text: 'Revoke',
        attrs: { type: 'button', 'aria-label': `Revoke ${client.label}` },
        data: { action: 'revoke', clientId: client.clientId },
      }));
    }
    return cell;
  }

  function row(client) {
    const status = client.status === 'revoked'
      ? el('span', { className: 'badge revoked' }, 'Revoked ', time(client.revokedAt))
      : el('span', { className: 'badge active', text: 'Active' });
    return el('tr', { data: { clientId: client.clientId } },
      el('th', { text: client.label, attrs: { scope: 'row' } }),
      el('td', {}, el('code', { text: client.clientId })),
      el('td', {}, time(client.createdAt)),
      el('td', {}, time(client.lastUsedAt, 'Never')),
      el('td', {}, status),
      actions(client));
  }

  async function load() {
    const gen = ++generation;
    try {
      const { clients } = await account.clients();
      if (gen !== generation) {
        return;
      }
      body.replaceChildren(...clients.map(row));
      byId('clients-empty').hidden = clients.length > 0;
      body.closest('.table-wrap').hidden = clients.length === 0;
    } catch (err) {
      app.fail(err);
    }
  }

  // askToRevoke swaps the row's Revoke button for the confirmation step.
  function askToRevoke(button) {
    const { clientId } = button.dataset;
    const label = button.closest('tr').querySelector('th').textContent;
    const cell = button.parentElement;
    const cancel = el('button', {
      className: 'secondary', text: 'Cancel', attrs: { type: 'button' }, data: { action: 'cancel-revoke', clientId },
    });
    cell.replaceChildren(
      el('p', { className: 'confirm-text', text: `Revoke "${label}"? Servers using it can no longer get tokens.` }),
      el('button', {
        className: 'danger', text: 'Confirm revoke', attrs: { type: 'button' }, data: { action: 'confirm-revoke', clientId },
      }),
      cancel);
    cancel.focus();
  }

  function cancelRevoke(button) {
    const { clientId } = button.dataset;
    const cell = button.parentElement;
    const label = button.closest('tr').querySelector('th').textContent;
    const revoke = actions({ status: 'active', clientId, label }).firstChild;
    cell.replaceChildren(revoke);
    revoke.focus();
  }

  async function revoke(button) {
    const { clientId } = button.dataset;
    const label = button.closest('tr').querySelector('th').textContent;
    clearMessages();
    button.disabled = true;
    try {
      await account.revokeClient(clientId);
      showNotice(`Revoked "${label}". It can no longer get tokens.`);
    } catch (err) {
      app.fail(err);
    }
    await load();
    byId('clients-title').focus();
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearMessages();
    const label = byId('client-label').value.trim();
    await busy(form, async () => {
      try {
        const client = await account.createClient(label);
        form.reset();
        showSecret(client);
        await load();
      } catch (err) {
        app.fail(err);
      }
    });
  });

  panel.addEventListener('click', async (event) => {
    const button = event.target.closest('button.copy');
    if (button) {
      const target = byId(button.dataset.copy);
      const what = target.closest('dd').previousElementSibling.textContent;
      showNotice(await copyText(target, what));
    }
  });

  byId('new-secret-done').addEventListener('click', () => {
    hideSecret();
    clearMessages();
    byId('client-label').focus();
  });

  body.addEventListener('click', (event) => {
    const button = event.target.closest('button[data-action]');
    if (!button) {
      return;
    }
    switch (button.dataset.action) {
      case 'revoke': askToRevoke(button); break;
      case 'cancel-revoke': cancelRevoke(button); break;
      case 'confirm-revoke': revoke(button); break;
      default:
    }
  });

  body.addEventListener('keydown', (event) => {
    const button = event.target.closest('button[data-action="cancel-revoke"], button[data-action="confirm-revoke"]');
    if (event.key === 'Escape' && button) {
      const cancel = button.parentElement.querySelector('button[data-action="cancel-revoke"]');
      cancelRevoke(cancel);
    }
  });

  return {
    view: 'view-credentials',
    title: 'API credentials',
    enter() { load(); },
    // Leaving the page forgets a new client's secret: it is shown once, here, only.
    leave() { hideSecret(); },
    reset() {
      generation++;
      hideSecret();
      form.reset();
      body.replaceChildren();
      byId('clients-empty').hidden = true;
    },
  };
}
