/** A .resx strings file, bundled as its text (harness/build.mjs). */
declare module "*.resx" {
  const text: string;
  export default text;
}
