/**
 * The dashboard's markup (html.js): the `html` template escapes what it is given unless `html` built it, and `render`
 * is the only place the page's scripts write markup. html.js is a classic script the page loads before the others;
 * here it runs in a fresh context, as the browser runs it, with no DOM.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';

const DIR = dirname(fileURLToPath(import.meta.url));
const read = (file: string) => readFileSync(join(DIR, file), 'utf8');

interface Built {
  toString(): string;
}
const markup = runInNewContext(`${read('html.js')}\n;({ html, render, Html })`) as {
  html: (strings: TemplateStringsArray | string[], ...values: unknown[]) => Built;
  render: (element: { innerHTML: string }, built: unknown) => void;
  Html: new () => Built;
};
const { html, render, Html } = markup;
const text = (built: Built) => built.toString();

describe('html`...`', () => {
  it('escapes & < > " and \' in text', () => {
    expect(text(html`<td>${`<img src=x onerror="alert('&')">`}</td>`)).toBe(
      '<td>&lt;img src=x onerror=&quot;alert(&#39;&amp;&#39;)&quot;&gt;</td>',
    );
  });

  it('escapes a quoted attribute value, so it cannot close the attribute or the tag', () => {
    expect(text(html`<tr data-id="${'" onclick="go()'}" title='${"' x='"}'>`)).toBe(
      `<tr data-id="&quot; onclick=&quot;go()" title='&#39; x=&#39;'>`,
    );
    expect(text(html`<span class="badge ${'a"><b>'}">`)).toBe('<span class="badge a&quot;&gt;&lt;b&gt;">');
  });

  it('keeps markup html built, and escapes what is inside it', () => {
    const cell = html`<td>${'<b>'}</td>`;
    expect(text(html`<tr>${cell}</tr>`)).toBe('<tr><td>&lt;b&gt;</td></tr>');
    expect(text(html`<ol>${html`<li>${html`<b>${'&'}</b>`}</li>`}</ol>`)).toBe('<ol><li><b>&amp;</b></li></ol>');
  });

  it('joins a list, escaping its texts and keeping its built markup, nested lists too', () => {
    expect(text(html`<ul>${['<a>', html`<li>x</li>`, ['&', html`<li>y</li>`], []]}</ul>`)).toBe(
      '<ul>&lt;a&gt;<li>x</li>&amp;<li>y</li></ul>',
    );
    expect(text(html`<tbody>${[]}</tbody>`)).toBe('<tbody></tbody>');
  });

  it('renders null, undefined and false as nothing, and numbers as they read, 0 included', () => {
    expect(text(html`<td>${null}|${undefined}|${false}</td>`)).toBe('<td>||</td>');
    expect(text(html`<td>${0} ${-1.5} ${42}</td>`)).toBe('<td>0 -1.5 42</td>');
    const failed = 0;
    expect(text(html`<td class="${failed ? 'failed' : ''}">${failed}</td>`)).toBe('<td class="">0</td>');
  });

  it('is markup only when html built it: a string or an object that prints markup is escaped', () => {
    expect(text(html`${'<b>bold</b>'}`)).toBe('&lt;b&gt;bold&lt;/b&gt;');
    expect(text(html`${{ toString: () => '<script>' }}`)).toBe('&lt;script&gt;');
    // Only html fills one: a value made any other way holds nothing.
    expect(text(html`<p>${new Html()}</p>`)).toBe('<p></p>');
  });

  it('is a tag: an array made to look like a template is refused', () => {
    expect(() => html(['<img src=x onerror=alert(1)>'])).toThrow(/html is a tag/);
  });

  it('drops a line break in the template and the indentation after it, keeping spaces on a line and line breaks in values', () => {
    const built = html`<tr>
      <td>${'a'} <b>b</b></td>
      <td><pre>${'one\ntwo'}</pre></td>
    </tr>`;
    expect(text(built)).toBe('<tr><td>a <b>b</b></td><td><pre>one\ntwo</pre></td></tr>');
  });
});

describe('render', () => {
  it('puts built markup in an element, in place of what it held', () => {
    const element = { innerHTML: '<p>old</p>' };
    render(element, html`<b>${'<i>'}</b>`);
    expect(element.innerHTML).toBe('<b>&lt;i&gt;</b>');
  });

  it('refuses a string: markup comes only from html', () => {
    const element = { innerHTML: '' };
    expect(() => render(element, '<img src=x onerror=alert(1)>')).toThrow(/render takes markup built by html/);
    expect(element.innerHTML).toBe('');
  });
});

describe("the page's scripts", () => {
  const scripts = readdirSync(DIR).filter((f) => f.endsWith('.js'));
  // Every way a script can turn text into markup or script.
  const SINKS =
    /\b(innerHTML|outerHTML|insertAdjacentHTML|document\.write(ln)?|createContextualFragment|setHTMLUnsafe|parseHTMLUnsafe|srcdoc)\b|['"]text\/html['"]|\bon[a-z]+=["']?\$\{/g;

  it('are the ones the page loads', () => {
    const page = read('dashboard.html');
    expect(scripts.sort()).toEqual([...page.matchAll(/<script src="([\w.-]+)"><\/script>/g)].map((m) => m[1]).sort());
  });

  it('write markup only in render: no other innerHTML, insertAdjacentHTML, outerHTML, document.write or HTML parse', () => {
    const found = scripts.flatMap((file) =>
      [...read(file).matchAll(SINKS)].map((m) => {
        const source = read(file);
        const line = source.slice(0, m.index).split('\n').length;
        const render = /\nfunction render\([^)]*\) \{\n[\s\S]*?\n\}\n/.exec(source);
        const inRender =
          file === 'html.js' && render !== null && m.index > render.index && m.index < render.index + render[0].length;
        return { at: `${file}:${line}`, sink: m[0], inRender };
      }),
    );
    expect(found.filter((f) => !f.inRender)).toEqual([]);
    expect(found.map((f) => f.sink)).toEqual(['innerHTML']);
  });

  it('quote every interpolated attribute value, so the escaping covers it, and have no escaping of their own', () => {
    for (const file of scripts) {
      const source = read(file);
      expect(source, `${file}: an attribute value put in unquoted (quote it: name="\${value}")`).not.toMatch(/=\$\{/);
      if (file !== 'html.js')
        expect(source, `${file}: hand-written escaping (use html\`...\`)`).not.toMatch(/\besc\(|&amp;|&lt;/);
    }
  });
});
