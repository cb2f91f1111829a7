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
   * A subscription goes over GraphQL over SSE on the same endpoint (a browser cannot set headers
   * on a WebSocket, but fetch carries the typed ones): GraphiQL shows each event as it comes.
   */
  function fetcher(params, options) {
    var headers = { "content-type": "application/json", accept: "application/graphql-response+json" };
    var typed = (options && options.headers) || {};
    Object.keys(typed).forEach(function (name) {
      headers[name.toLowerCase()] = String(typed[name]);
    });
    // Boundary: protogateOperationKind is the global of graphiql-operation-kind.js, loaded before this script.
    if (window.protogateOperationKind(params.query, params.operationName) === "subscription") return subscribe(params, headers);
    return fetch(endpoint, { method: "POST", headers: headers, body: JSON.stringify(params), credentials: "same-origin" }).then(asResult);
  }

  /** A response's JSON body, or an error GraphiQL can show when it is not JSON. */
  function asResult(response) {
    return response.text().then(function (text) {
      try {
        return JSON.parse(text);
      } catch (error) {
        return { errors: [{ message: "the gateway answered " + response.status + " with a body that is not JSON: " + text.slice(0, 200) }] };
      }
    });
  }

  /**
   * A subscription over GraphQL over SSE (distinct connections mode): an async iterator of each
   * `next` event's result, ending at `complete`. A refusal (401, 429...) is one result, its body.
   * GraphiQL's stop button returns the iterator, which aborts the request at once (the gateway
   * then cancels the upstream stream).
   */
  function subscribe(params, headers) {
    headers.accept = "text/event-stream";
    var controller = new AbortController();
    var events = readEvents(params, headers, controller.signal);
    var iterator = {
      next: function () {
        return events.next();
      },
      return: function () {
        controller.abort();
        return Promise.resolve({ done: true, value: undefined });
      },
    };
    iterator[Symbol.asyncIterator] = function () {
      return iterator;
    };
    return iterator;
  }

  async function* readEvents(params, headers, signal) {
    var response = await fetch(endpoint, { method: "POST", headers: headers, body: JSON.stringify(params), credentials: "same-origin", signal: signal });
    if (!(response.headers.get("content-type") || "").startsWith("text/event-stream")) {
      yield await asResult(response);
      return;
    }
    var reader = response.body.getReader();
    var decoder = new TextDecoder();
    var buffered = "";
    for (;;) {
      var end = buffered.indexOf("\n\n");
      if (end >= 0) {
        var event = "";
        var data = [];
        buffered
          .slice(0, end)
          .split("\n")
          .forEach(function (line) {
            // Comment lines (": keep-alive") carry nothing.
            if (line.indexOf("event:") === 0) event = line.slice(6).trim();
            else if (line.indexOf("data:") === 0) data.push(line.slice(5).replace(/^ /, ""));
          });
        buffered = buffered.slice(end + 2);
        if (event === "complete") return;
        if (event === "next") yield JSON.parse(data.join("\n"));
        continue;
      }
      var chunk = await reader.read();
      if (chunk.done) return;
      buffered += decoder.decode(chunk.value, { stream: true });
    }
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
