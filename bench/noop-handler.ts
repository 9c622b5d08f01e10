/** The benchmark's job: does nothing, so the numbers measure gaffer, not the work. */
export default function noop(): null {
  return null;
}
