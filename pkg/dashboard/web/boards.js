// The tenant's leaderboards and teams, one page of each at a time.
import { account } from './api.js';
import { byId, el, formatNumber, Pager, time } from './dom.js';

const sortOrders = { desc: 'Highest first', asc: 'Lowest first' };
const operators = { best: 'Best kept', set: 'Latest kept', increment: 'Added up' };
const rankModes = { ordinal: 'Ordinal', competition: 'Ties share' };

function boardRow(board) {
  return el('tr', { data: { boardId: board.id } },
    el('th', { attrs: { scope: 'row' } },
      el('a', { text: board.name, attrs: { href: `#/board/${encodeURIComponent(board.id)}` } })),
    el('td', { className: 'num', text: formatNumber(board.teamCount) }),
    el('td', { text: sortOrders[board.sortOrder] ?? board.sortOrder }),
    el('td', { text: operators[board.scoreOperator] ?? board.scoreOperator }),
    el('td', { text: rankModes[board.rankMode] ?? board.rankMode }),
    el('td', {}, time(board.createdAt)));
}

function teamRow(team) {
  return el('tr', { data: { teamId: team.id } },
    el('th', { text: team.teamName, attrs: { scope: 'row' } }),
    el('td', {}, el('code', { text: team.id })),
    el('td', {}, time(team.createdAt)),
    el('td', { className: 'col-updated' }, time(team.modifiedAt)));
}

// list is one paged table: its pager, loader and row maker, and the ids of its parts.
function list(app, { prefix, fetchPage, items, row, remember }) {
  const pager = new Pager();
  let generation = 0;

  async function load() {
    const gen = ++generation;
    try {
      const page = await fetchPage(pager.cursor);
      if (gen !== generation) {
        return;
      }
      const rows = page[items] ?? [];
      remember?.(rows);
      byId(`${prefix}-body`).replaceChildren(...rows.map(row));
      const empty = rows.length === 0 && pager.page === 1;
      byId(`${prefix}-empty`).hidden = !empty;
      byId(`${prefix}-body`).closest('.table-wrap').hidden = empty;
      pager.next = page.nextCursor ?? '';
      pager.render(prefix);
    } catch (err) {
      if (err.status === 400 && pager.page > 1) {
        // A cursor the API no longer takes (its key was rotated): the pages start over.
        pager.reset();
      }
      app.fail(err);
    }
  }

  pager.bind(prefix, load);

  return {
    load,
    reset() {
      generation++;
      pager.reset();
      byId(`${prefix}-body`).replaceChildren();
      byId(`${prefix}-empty`).hidden = true;
      pager.render(prefix);
    },
  };
}

export function boardsView(app) {
  const boards = list(app, {
    prefix: 'boards',
    fetchPage: (cursor) => account.leaderboards(cursor),
    items: 'leaderboards',
    row: boardRow,
    remember: (rows) => rows.forEach((b) => app.boardNames.set(b.id, b.name)),
  });
  const teams = list(app, {
    prefix: 'teams',
    fetchPage: (cursor) => account.teams(cursor),
    items: 'teams',
    row: teamRow,
  });
  return {
    view: 'view-boards',
    title: 'Leaderboards',
    enter() {
      boards.load();
      teams.load();
    },
    leave() {},
    reset() {
      boards.reset();
      teams.reset();
    },
  };
}
