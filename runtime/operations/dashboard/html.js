// @ts-check
// The dashboard's markup, safe by construction. `html` is a tagged template: every value put in it is escaped as
// text, unless it is itself markup `html` built (a list of values is joined); `render` is the only place the page
// writes markup into the document, and it takes only what `html` built. An attribute's value is quoted in the
// template (`class="${status}"`), and the escaping covers both quotes. As in JSX, a line break in a template and the
// indentation after it are not markup: a template can be laid out on lines without changing the page. Loaded before
// the page's other scripts, and by its test (html.test.ts beside it): no DOM access until `render` is called.

/**
 * What a template takes: text and numbers (escaped; 0 is shown), markup `html` built (kept as it is), and nothing
 * (null, undefined and false read as empty, so `cond && html\`...\`` works); or a list of those, or of lists of
 * them (joined).
 * @typedef {Html | string | number | false | null | undefined} Fragment
 * @typedef {Fragment | ReadonlyArray<Fragment | ReadonlyArray<Fragment>>} Interpolated
 */

/** The characters that would end a text or an attribute value, as entities. */
const ENTITIES = /** @type {const} */ ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' });

/** A template's text as markup: each line break, and the indentation after it, dropped (once per template). */
/** @type {WeakMap<TemplateStringsArray, string[]>} */
const layouts = new WeakMap();

/**
 * @param {TemplateStringsArray} strings
 * @returns {string[]}
 */
function layout(strings) {
  let text = layouts.get(strings);
  if (!text) layouts.set(strings, (text = strings.map((s) => s.replace(/\n\s*/g, ''))));
  return text;
}

/** Markup built by `html`: every value in it was escaped or was itself built. Only `html` can fill one. */
class Html {
  #markup = '';

  /**
   * @param {TemplateStringsArray} strings
   * @param {readonly Interpolated[]} values
   */
  static build(strings, values) {
    // A template's strings carry `raw`; an array made by hand to look like one does not.
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the message shows how the tag is written
    if (!Array.isArray(strings.raw)) throw new TypeError('html is a tag: html`<b>${value}</b>`');
    const built = new Html();
    built.#markup = layout(strings).reduce((out, text, i) => out + Html.#fragment(values[i - 1]) + text);
    return built;
  }

  /**
   * @param {Interpolated} value
   * @returns {string}
   */
  static #fragment(value) {
    if (value === null || value === undefined || value === false) return '';
    if (value instanceof Html) return value.#markup;
    if (Array.isArray(value)) return value.map((v) => Html.#fragment(v)).join('');
    return String(value).replace(/[&<>"']/g, (c) => ENTITIES[/** @type {keyof typeof ENTITIES} */ (c)]);
  }

  toString() {
    return this.#markup;
  }
}

/**
 * Markup from a template, its values escaped.
 * @example html`<td class="${status}">${name}</td>`
 * @param {TemplateStringsArray} strings
 * @param {...Interpolated} values
 */
// biome-ignore lint/correctness/noUnusedVariables: dashboard.js, loaded after this script, calls it
const html = (strings, ...values) => Html.build(strings, values);

/**
 * Puts built markup in an element, in place of what it held: the only place the page writes markup.
 * @param {Element} element
 * @param {Html} built
 */
// biome-ignore lint/correctness/noUnusedVariables: dashboard.js, loaded after this script, calls it
function render(element, built) {
  if (!(built instanceof Html)) throw new TypeError('render takes markup built by html`...`, never a string');
  element.innerHTML = built.toString();
}
