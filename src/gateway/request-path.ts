/**
 * A request URL's path, without its query string: what log lines name, because a query string can
 * carry credentials (`?api_key=`, `?access_token=`).
 */
export function pathOf(url: string): string {
  const queryStart = url.indexOf("?");
  return queryStart < 0 ? url : url.slice(0, queryStart);
}
