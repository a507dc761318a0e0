/** A file's text, imported with Vite's `?raw` suffix (tests that compare the docs with a run). */
declare module '*.md?raw' {
  const text: string;
  export default text;
}
