// The GraphiQL page's start script, run in the browser (plain JavaScript, not compiled). A file of
// its own because the page's Content-Security-Policy allows scripts from the gateway's origin only,
// never inline ones. The page's root element carries the endpoint (data-endpoint).
(function () {
  "use strict";
  var root = document.getElementById("graphiql");
  var endpoint = root.getAttribute("data-endpoint");

  /**
   * Sends one operation to this gateway's endpoint, as the GraphQL-over-HTTP specification asks:
   * a JSON POST, accepting application/graphql-response+json. The headers typed into GraphiQL's
   * headers editor (an `authorization: Bearer ...` token, an API key) are sent with it. Any JSON
   * answer is shown, whatever its status: a 4xx graphql-response+json body holds the errors.
   */
  function fetcher(params, options) {
    var headers = { "content-type": "application/json", accept: "application/graphql-response+json" };
    var typed = (options && options.headers) || {};
    Object.keys(typed).forEach(function (name) {
      headers[name.toLowerCase()] = String(typed[name]);
    });
    return fetch(endpoint, { method: "POST", headers: headers, body: JSON.stringify(params), credentials: "same-origin" }).then(function (response) {
      return response.text().then(function (text) {
        try {
          return JSON.parse(text);
        } catch (error) {
          return { errors: [{ message: "the gateway answered " + response.status + " with a body that is not JSON: " + text.slice(0, 200) }] };
        }
      });
    });
  }

  root.textContent = "";
  // Boundary: React, ReactDOM and GraphiQL are the globals of the UMD bundles the page loads first.
  window.ReactDOM.createRoot(root).render(
    window.React.createElement(window.GraphiQL, {
      fetcher: fetcher,
      // The headers editor is where a token or an API key goes; it is never written to
      // localStorage, so a token lives as long as the tab.
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: false,
    }),
  );
})();
