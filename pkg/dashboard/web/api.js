// The /account API of the same origin. The session is the HttpOnly cookie lb_session,
// which this code never sees: fetch sends it because the request is same-origin.

// ApiError is a refused request, with the message the API wrote for the person.
class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
  }
}

// request sends a JSON request and returns the parsed answer (null for 204). Any answer
// but 2xx throws an ApiError whose message is the API's own {"message"}, with the wait
// added when the API says when to retry.
async function request(method, path, body) {
  const init = { method, credentials: 'same-origin', headers: { Accept: 'application/json' } };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let resp;
  try {
    resp = await fetch(path, init);
  } catch {
    throw new ApiError(0, 'Could not reach the server. Check your connection and try again.');
  }
  if (resp.status === 204) {
    return null;
  }
  let data = null;
  try {
    data = await resp.json();
  } catch {
    // Not JSON: described below from the status alone.
  }
  if (resp.ok) {
    return data;
  }
  let message = data && typeof data.message === 'string' && data.message !== ''
    ? data.message
    : `The server answered ${resp.status}.`;
  const retry = Number.parseInt(resp.headers.get('Retry-After') ?? '', 10);
  if (Number.isFinite(retry) && retry > 0 && !/try again/i.test(message)) {
    message += ` Try again in ${retry} second${retry === 1 ? '' : 's'}.`;
  }
  throw new ApiError(resp.status, message);
}

// query builds "?a=1&b=2" from the pairs whose value is set.
function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== '') {
      q.set(k, String(v));
    }
  }
  const s = q.toString();
  return s === '' ? '' : `?${s}`;
}

export const account = {
  me: () => request('GET', '/account/me'),
  signUp: (email, password) => request('POST', '/account/signup', { email, password }),
  signIn: (email, password) => request('POST', '/account/signin', { email, password }),
  signOut: () => request('POST', '/account/signout'),
  clients: () => request('GET', '/account/clients'),
  createClient: (label) => request('POST', '/account/clients', { label }),
  revokeClient: (clientId) => request('DELETE', `/account/clients/${encodeURIComponent(clientId)}`),
  leaderboards: (cursor, limit = 25) => request('GET', `/account/leaderboards${query({ limit, cursor })}`),
  teams: (cursor, limit = 25) => request('GET', `/account/teams${query({ limit, cursor })}`),
  rankings: (boardId, cursor, limit = 25) =>
    request('GET', `/account/leaderboards/${encodeURIComponent(boardId)}/rankings${query({ limit, cursor })}`),
  teamRank: (boardId, teamId, around) =>
    request('GET', `/account/leaderboards/${encodeURIComponent(boardId)}/rankings/${encodeURIComponent(teamId)}${query({ around })}`),
};
