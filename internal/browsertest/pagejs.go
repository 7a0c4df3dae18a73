package browsertest

// pageJS holds the helpers the Page methods run inside the page. Lookups go by what a person
// sees (a label, a button's text) and by accessible names (aria-label), never by CSS classes,
// so the tests keep working when the markup's styling changes and fail when a label does.
const pageJS = `({
  norm(s) { return (s || '').replace(/\s+/g, ' ').trim(); },
  root(scope) {
    if (!scope) return document.body;
    const r = document.querySelector(scope);
    if (!r) throw new Error('nothing matches ' + scope);
    return r;
  },
  text(scope) { return this.root(scope).innerText; },
  html(css, scope) { return [...this.root(scope).querySelectorAll(css)].map(e => e.outerHTML).join('\n'); },
  visible(el) { return el.getClientRects().length > 0; },
  // labelText is a label's own words, without the text of the control inside it.
  labelText(l) {
    const c = l.cloneNode(true);
    c.querySelectorAll('input,select,textarea,button').forEach(e => e.remove());
    return this.norm(c.textContent);
  },
  name(el) {
    const aria = el.getAttribute('aria-label');
    if (aria) return this.norm(aria);
    const by = el.getAttribute('aria-labelledby');
    if (by) return this.norm(by.split(/\s+/).map(id => (document.getElementById(id) || {}).textContent || '').join(' '));
    if (el.labels && el.labels.length) return this.norm([...el.labels].map(l => this.labelText(l)).join(' '));
    const tag = el.tagName.toLowerCase();
    if (tag === 'input' && ['submit', 'button', 'reset'].includes(el.type)) return this.norm(el.value);
    if (['a', 'button', 'summary'].includes(tag) || el.getAttribute('role') === 'button') return this.norm(el.innerText);
    return this.norm(el.getAttribute('title') || el.getAttribute('placeholder') || '');
  },
  role(el) {
    const r = el.getAttribute('role');
    if (r) return r;
    const tag = el.tagName.toLowerCase();
    if (tag === 'a') return 'link';
    if (tag === 'button' || tag === 'summary') return 'button';
    if (tag === 'select') return 'combobox';
    if (tag === 'textarea') return 'textbox';
    if (tag === 'input') {
      if (['submit', 'button', 'reset'].includes(el.type)) return 'button';
      if (['checkbox', 'radio'].includes(el.type)) return el.type;
      return el.type === 'password' ? 'password' : 'textbox';
    }
    return tag;
  },
  kinds: {
    field: 'input:not([type=hidden]):not([type=submit]):not([type=button]):not([type=reset]),select,textarea',
    control: 'a[href],button,input[type=submit],input[type=button],input[type=reset],summary,[role=button]',
  },
  find(kind, want, scope) {
    want = this.norm(want);
    const all = [...this.root(scope).querySelectorAll(this.kinds[kind])].filter(e => this.visible(e));
    let hits = all.filter(e => this.name(e) === want);
    if (!hits.length) hits = all.filter(e => this.name(e).startsWith(want));
    const offered = all.map(e => this.role(e) + ' "' + this.name(e) + '"');
    if (!hits.length) return { error: 'not found', offered };
    if (hits.length > 1) return { error: hits.length + ' match (use Within to narrow the lookup)', offered: hits.map(e => e.outerHTML.slice(0, 160)) };
    window.__btSeq = (window.__btSeq || 0) + 1;
    hits[0].setAttribute('data-bt', String(window.__btSeq));
    return { selector: '[data-bt="' + window.__btSeq + '"]' };
  },
  typeOf(sel) { const e = document.querySelector(sel); return e.tagName.toLowerCase() === 'input' ? e.type : e.tagName.toLowerCase(); },
  setValue(sel, v) { document.querySelector(sel).value = v; return this.changed(sel); },
  changed(sel) {
    const e = document.querySelector(sel);
    e.dispatchEvent(new Event('input', { bubbles: true }));
    e.dispatchEvent(new Event('change', { bubbles: true }));
    return true;
  },
  choose(sel, option) {
    const e = document.querySelector(sel);
    const i = [...e.options].findIndex(o => this.norm(o.text) === this.norm(option));
    if (i < 0) return 'no option "' + option + '"; it offers: ' + [...e.options].map(o => '"' + this.norm(o.text) + '"').join(', ');
    e.selectedIndex = i;
    this.changed(sel);
    return '';
  },
  // overflow says what sticks out sideways past the viewport, outside any element that
  // scrolls or clips horizontally (a table in a scrolling region is fine): WCAG 1.4.10 Reflow.
  overflow() {
    const w = document.documentElement.clientWidth;
    if (document.documentElement.scrollWidth <= w + 1) return [];
    const scrolls = a => ['auto', 'scroll', 'hidden', 'clip'].includes(getComputedStyle(a).overflowX);
    const out = new Set();
    for (const e of document.body.querySelectorAll('*')) {
      const r = e.getBoundingClientRect();
      if (r.width === 0 || r.right <= w + 1 || (e.checkVisibility && !e.checkVisibility())) continue;
      let a = e.parentElement, contained = false;
      while (a && a !== document.body) { if (scrolls(a) || out.has(a)) { contained = true; break; } a = a.parentElement; }
      if (!contained) out.add(e);
    }
    return [...out].slice(0, 6).map(e => {
      const r = e.getBoundingClientRect();
      const id = e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (e.className && typeof e.className === 'string' ? '.' + e.className.trim().split(/\s+/).join('.') : '');
      return id + ' reaches ' + Math.round(r.right) + ' px (' + this.norm(e.innerText).slice(0, 40) + ')';
    });
  },
  // focusShown is whether the focused element is drawn differently from how it is unfocused
  // (an outline, a shadow, a changed background or text colour), WCAG 2.4.7 Focus Visible.
  focusShown() {
    const e = document.activeElement;
    if (!e || e === document.body) return false;
    const st = getComputedStyle(e);
    if (st.outlineStyle !== 'none' && parseFloat(st.outlineWidth) > 0) return true;
    if (st.boxShadow && st.boxShadow !== 'none') return true;
    const before = [st.backgroundColor, st.color, st.textDecorationLine, st.borderColor].join('|');
    e.blur();
    const un = getComputedStyle(e);
    const after = [un.backgroundColor, un.color, un.textDecorationLine, un.borderColor].join('|');
    e.focus({ focusVisible: true });
    return before !== after;
  },
  focused() {
    const e = document.activeElement;
    if (!e || e === document.body) return 'nothing';
    return this.role(e) + ' "' + this.name(e) + '"';
  },
})`
