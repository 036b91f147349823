// One leaderboard's rankings, refreshed every few seconds while the page is shown, and a
// team's rank with its neighbours.
import { account } from './api.js';
import { busy, byId, clearError, clock, el, formatNumber, Pager, setText, time } from './dom.js';

export const refreshMillis = 3000;

// rankedRow is one ranked team. changed marks a row whose score differs from the one on
// screen before, so the eye finds what moved.
function rankedRow(entry, { changed = false, self = false, button = false } = {}) {
  const classes = [changed && 'changed', self && 'is-self'].filter(Boolean).join(' ');
  const name = button
    ? el('button', { className: 'link', text: entry.teamName, attrs: { type: 'button' }, data: { teamId: entry.teamId } })
    : el('span', { text: entry.teamName });
  const nameCell = el('th', { attrs: { scope: 'row' } }, name);
  if (self) {
    nameCell.append(' ', el('span', { className: 'badge', text: 'this team' }));
  }
  const row = el('tr', { className: classes, data: { teamId: entry.teamId } },
    el('td', { className: 'num rank', text: entry.rank }),
    nameCell,
    el('td', { className: 'num score', text: formatNumber(entry.score) }),
    el('td', { className: 'col-updated' }, time(entry.updatedAt)));
  if (self) {
    row.setAttribute('aria-current', 'true');
  }
  return row;
}

export function boardView(app) {
  const body = byId('rankings-body');
  const pauseButton = byId('rankings-pause');
  const lookupForm = byId('lookup-form');
  const pager = new Pager();
  let boardId = '';
  let active = false;
  let paused = false;
  let timer = 0;
  let generation = 0;
  let shown = ''; // the page on screen as JSON, so an unchanged page is not redrawn
  let scores = new Map(); // teamId -> score on screen
  let pollError = '';

  function schedule() {
    clearTimeout(timer);
    if (active && !paused && !document.hidden) {
      timer = setTimeout(refresh, refreshMillis);
    }
  }

  function render(rankings) {
    const json = JSON.stringify(rankings);
    if (json === shown) {
      return;
    }
    const first = shown === '';
    // Keep the keyboard focus on the same team's button across the redraw.
    const focused = body.contains(document.activeElement) ? document.activeElement.dataset.teamId : undefined;
    body.replaceChildren(...rankings.map((r) => rankedRow(r, {
      changed: !first && scores.get(r.teamId) !== r.score,
      button: true,
    })));
    if (focused !== undefined) {
      body.querySelector(`button[data-team-id="${CSS.escape(focused)}"]`)?.focus();
    }
    shown = json;
    scores = new Map(rankings.map((r) => [r.teamId, r.score]));
    byId('lookup-teams').replaceChildren(...rankings.map((r) =>
      el('option', { text: r.teamName, attrs: { value: r.teamId } })));
  }

  async function refresh() {
    clearTimeout(timer);
    const gen = ++generation;
    try {
      const page = await account.rankings(boardId, pager.cursor);
      if (gen !== generation || !active) {
        return;
      }
      const rankings = page.rankings ?? [];
      render(rankings);
      const empty = rankings.length === 0 && pager.page === 1;
      byId('rankings-empty').hidden = !empty;
      body.closest('.table-wrap').hidden = empty;
      pager.next = page.nextCursor ?? '';
      pager.render('rankings');
      setText('rankings-updated', paused
        ? `Updated at ${clock(new Date())}. Live updates are paused.`
        : `Updated at ${clock(new Date())}; refreshes every ${refreshMillis / 1000} seconds.`);
      if (pollError) {
        clearError(pollError);
        pollError = '';
      }
    } catch (err) {
      if (gen !== generation || !active) {
        return;
      }
      app.fail(err);
      if (err.status === 401 || err.status === 404) {
        return; // signed out, or no such board: nothing more to fetch
      }
      if (err.status === 400 && pager.page > 1) {
        pager.reset(); // a cursor the API no longer takes: start over from the top
      }
      pollError = err.message;
    }
    schedule();
  }

  // turnPage is the pager's load: a new page is drawn whole, nothing marked as changed.
  function turnPage() {
    shown = '';
    scores = new Map();
    return refresh();
  }
  pager.bind('rankings', turnPage);

  pauseButton.addEventListener('click', () => {
    paused = !paused;
    pauseButton.textContent = paused ? 'Resume live updates' : 'Pause live updates';
    if (paused) {
      clearTimeout(timer);
      setText('rankings-updated', 'Live updates are paused.');
    } else {
      refresh();
    }
  });

  document.addEventListener('visibilitychange', () => {
    if (active && !paused && !document.hidden) {
      refresh();
    }
  });

  async function showTitle(id) {
    let name = app.boardNames.get(id);
    if (name === undefined) {
      try {
        const { leaderboards } = await account.leaderboards('', 100);
        leaderboards.forEach((b) => app.boardNames.set(b.id, b.name));
        name = app.boardNames.get(id);
      } catch {
        // The id stands in for the name; the rankings request reports any failure.
      }
    }
    if (id === boardId && name !== undefined) {
      setText('board-title', name);
      document.title = `${name} · Leaderboard dashboard`;
    }
  }

  function hideLookup() {
    byId('lookup-result').hidden = true;
    byId('lookup-body').replaceChildren();
    setText('lookup-summary', '');
  }

  function showLookup({ entry, around = [] }) {
    // around is in rank order without the team itself; it goes before the first
    // neighbour ranked below it (after any that share its rank).
    const at = around.findIndex((r) => r.rank > entry.rank);
    const rows = around.map((r) => rankedRow(r));
    rows.splice(at === -1 ? rows.length : at, 0, rankedRow(entry, { self: true }));
    byId('lookup-body').replaceChildren(...rows);
    setText('lookup-summary', `${entry.teamName} is ranked ${entry.rank} with a score of ${formatNumber(entry.score)}` +
      ` (${around.length} neighbour${around.length === 1 ? '' : 's'} shown).`);
    byId('lookup-result').hidden = false;
    byId('lookup-summary').focus();
  }

  let lookups = 0; // only the latest lookup's answer is shown

  async function lookup() {
    const teamId = byId('lookup-team').value.trim();
    const around = byId('lookup-around').value;
    const n = ++lookups;
    clearError();
    await busy(lookupForm, async () => {
      try {
        const rank = await account.teamRank(boardId, teamId, around);
        if (n === lookups) {
          showLookup(rank);
        }
      } catch (err) {
        if (n === lookups) {
          hideLookup();
          app.fail(err);
        }
      }
    });
  }

  lookupForm.addEventListener('submit', (event) => {
    event.preventDefault();
    lookup();
  });

  body.addEventListener('click', (event) => {
    const button = event.target.closest('button[data-team-id]');
    if (button) {
      byId('lookup-team').value = button.dataset.teamId;
      lookup();
    }
  });

  function reset() {
    active = false;
    lookups++;
    clearTimeout(timer);
    generation++;
    boardId = '';
    pager.reset();
    shown = '';
    scores = new Map();
    pollError = '';
    body.replaceChildren();
    byId('lookup-teams').replaceChildren();
    byId('rankings-empty').hidden = true;
    pager.render('rankings');
    setText('rankings-updated', 'Not loaded yet');
    lookupForm.reset();
    hideLookup();
  }

  return {
    view: 'view-board',
    title: 'Leaderboard',
    enter([id]) {
      if (id !== boardId) {
        reset();
        boardId = id;
        setText('board-title', 'Leaderboard');
        setText('board-id', id);
        showTitle(id);
      }
      active = true;
      refresh();
    },
    leave() {
      active = false;
      clearTimeout(timer);
      generation++;
    },
    reset,
  };
}
