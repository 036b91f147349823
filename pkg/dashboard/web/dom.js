// Small DOM helpers shared by the views. Text from users and from the API only ever
// reaches the page through textContent (in el and setText), never as markup.

export function byId(id) {
  const node = document.getElementById(id);
  if (!node) {
    throw new Error(`missing element #${id}`);
  }
  return node;
}

// el builds an element: el('td', { className: 'num', text: '12', data: { teamId: 'x' },
// attrs: { scope: 'row' } }, child, ...). Children are nodes or strings (as text).
export function el(tag, options = {}, ...children) {
  const node = document.createElement(tag);
  if (options.className) {
    node.className = options.className;
  }
  if (options.text !== undefined && options.text !== null) {
    node.textContent = String(options.text);
  }
  for (const [k, v] of Object.entries(options.data ?? {})) {
    node.dataset[k] = v;
  }
  for (const [k, v] of Object.entries(options.attrs ?? {})) {
    node.setAttribute(k, v);
  }
  for (const child of children) {
    node.append(child);
  }
  return node;
}

export function setText(id, text) {
  byId(id).textContent = text;
}

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const timeOnly = new Intl.DateTimeFormat(undefined, { timeStyle: 'medium' });
const number = new Intl.NumberFormat();

// time is a <time> element for an RFC 3339 timestamp, or the fallback text when unset.
export function time(iso, fallback = '') {
  if (!iso) {
    return document.createTextNode(fallback);
  }
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) {
    return document.createTextNode(iso);
  }
  return el('time', { text: dateTime.format(d), attrs: { datetime: iso } });
}

export function clock(d) {
  return timeOnly.format(d);
}

export function formatNumber(n) {
  return typeof n === 'number' ? number.format(n) : String(n);
}

// Messages. The error region is role=alert; the notice region role=status. Both stay in
// the page while empty, so that assistive technology announces what is put in them.
export function showError(message) {
  const region = byId('error');
  if (region.textContent !== message) {
    region.textContent = message;
  }
}

// clearError empties the error region; with a message, only if that is what it shows.
export function clearError(message) {
  const region = byId('error');
  if (message === undefined || region.textContent === message) {
    region.textContent = '';
  }
}

export function showNotice(message) {
  byId('notice').textContent = message;
}

export function clearMessages() {
  byId('error').textContent = '';
  byId('notice').textContent = '';
}

// busy disables a form's submit button while its request runs.
export async function busy(form, work) {
  const buttons = form.querySelectorAll('button[type="submit"]');
  form.setAttribute('aria-busy', 'true');
  buttons.forEach((b) => { b.disabled = true; });
  try {
    return await work();
  } finally {
    form.removeAttribute('aria-busy');
    buttons.forEach((b) => { b.disabled = false; });
  }
}

// Pager walks a list whose cursors only go forward: the cursors used to reach the pages
// so far are kept, so Previous pops back to the one before.
export class Pager {
  constructor() {
    this.reset();
  }

  reset() {
    this.used = [''];
    this.next = '';
  }

  get cursor() {
    return this.used[this.used.length - 1];
  }

  get page() {
    return this.used.length;
  }

  forward() {
    if (this.next) {
      this.used.push(this.next);
      this.next = '';
    }
  }

  back() {
    if (this.used.length > 1) {
      this.used.pop();
      this.next = '';
    }
  }

  // render sets the Previous/Next buttons and the page label of the pager named prefix
  // (prefix-prev, prefix-next, prefix-page).
  render(prefix) {
    const prev = byId(`${prefix}-prev`);
    prev.disabled = this.page === 1;
    byId(`${prefix}-next`).disabled = !this.next;
    byId(`${prefix}-page`).textContent = `Page ${this.page}`;
    // One page needs no pager.
    prev.parentElement.hidden = this.page === 1 && !this.next;
  }

  // bind runs load after Previous or Next (prefix-prev, prefix-next) moves the pager.
  // When the button pressed ends up disabled (the first or last page), the focus moves
  // to the other one rather than dropping to the top of the page.
  bind(prefix, load) {
    const prev = byId(`${prefix}-prev`);
    const next = byId(`${prefix}-next`);
    const turn = (move, pressed, other) => async () => {
      move();
      await load();
      if (pressed.disabled && !other.disabled) {
        other.focus();
      }
    };
    prev.addEventListener('click', turn(() => this.back(), prev, next));
    next.addEventListener('click', turn(() => this.forward(), next, prev));
  }
}

// copyText copies an element's text to the clipboard; where the clipboard is refused it
// selects the text instead, for the person to copy with the keyboard. It answers what
// happened, for the status region.
export async function copyText(node, what) {
  const text = node.textContent;
  try {
    await navigator.clipboard.writeText(text);
    return `${what} copied to the clipboard.`;
  } catch {
    const range = document.createRange();
    range.selectNodeContents(node);
    const selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
    return `${what} is selected: press Ctrl+C (or Command+C) to copy it.`;
  }
}
