import { escapeHtml, html, SafeHtml, trustedHtml } from '@jwt-handoff/shared';
import { describe, expect, it } from 'vitest';

describe('html template tag', () => {
  it('escapes an interpolated script tag', () => {
    const name = '<script>alert(1)</script>';
    expect(html`<p>Hello ${name}</p>`.value).toBe('<p>Hello &lt;script&gt;alert(1)&lt;/script&gt;</p>');
  });

  it('escapes quotes, so a value cannot leave its attribute', () => {
    const value = `" onmouseover="alert(1)' x='`;
    expect(html`<input value="${value}">`.value).toBe(
      '<input value="&quot; onmouseover=&quot;alert(1)&#39; x=&#39;">',
    );
  });

  it('escapes ampersands, so an entity cannot be smuggled in', () => {
    expect(html`${'&lt;script&gt;'}`.value).toBe('&amp;lt;script&amp;gt;');
  });

  it('passes SafeHtml through untouched', () => {
    const inner = html`<b>${'<i>'}</b>`;
    expect(html`<p>${inner}</p>`.value).toBe('<p><b>&lt;i&gt;</b></p>');
    expect(html`${trustedHtml('<hr>')}`.value).toBe('<hr>');
  });

  it('escapes each item of an array and joins them', () => {
    const items = ['<a>', html`<li>${'"b"'}</li>`];
    expect(html`<ul>${items}</ul>`.value).toBe('<ul>&lt;a&gt;<li>&quot;b&quot;</li></ul>');
  });

  it('renders nothing for undefined, null and false, and numbers as text', () => {
    expect(html`[${undefined}${null}${false}${0}${42}]`.value).toBe('[042]');
  });

  it('escapes an object whose toString returns markup', () => {
    const sneaky = { toString: () => '<img src=x onerror=alert(1)>' };
    expect(html`${sneaky}`.value).toBe('&lt;img src=x onerror=alert(1)&gt;');
  });

  it('returns SafeHtml that stringifies to its markup', () => {
    const page = html`<p>${'x'}</p>`;
    expect(page).toBeInstanceOf(SafeHtml);
    expect(`${page}`).toBe('<p>x</p>');
  });

  it('escapeHtml escapes the five characters that matter', () => {
    expect(escapeHtml(`&<>"'`)).toBe('&amp;&lt;&gt;&quot;&#39;');
  });
});
