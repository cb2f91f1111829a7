// The kind of operation a GraphiQL request runs, for the page's fetcher (graphiql-init.js), run in
// the browser (plain JavaScript, not compiled). It reads the query text itself: GraphiQL's parsed
// document (the fetcher's `documentAST`) can still be the previous text's when a query is run
// right after it was typed. Tested against graphql-js's parser in
// test/graphql/graphiql/graphiql-operation-kind.test.ts.
(function (global) {
  "use strict";
  var KEYWORDS = { query: true, mutation: true, subscription: true, fragment: true };

  /**
   * "query", "mutation" or "subscription": the kind of the operation named `operationName`, or of
   * the document's only operation; undefined when there is no such operation (the endpoint then
   * says what is wrong). Comments, strings, arguments and variable defaults are skipped; the body
   * of each top-level definition is counted by its braces.
   */
  function operationKind(text, operationName) {
    var clean = String(text).replace(/"""[\s\S]*?"""|"(?:[^"\\\n\r]|\\.)*"|#[^\n\r]*/g, " ");
    var tokens = /[{}()]|[_A-Za-z][_0-9A-Za-z]*/g;
    var depth = 0;
    var parens = 0;
    var definitions = [];
    var pending = null;
    var expectName = false;
    var match;
    while ((match = tokens.exec(clean)) !== null) {
      var token = match[0];
      if (token === "(") parens++;
      else if (token === ")") parens--;
      else if (parens > 0) continue;
      else if (token === "{") {
        if (depth === 0) {
          definitions.push(pending || { kind: "query", name: null });
          pending = null;
          expectName = false;
        }
        depth++;
      } else if (token === "}") depth--;
      else if (depth === 0) {
        if (expectName) {
          pending.name = token;
          expectName = false;
        } else if (pending === null && KEYWORDS[token] === true) {
          pending = { kind: token, name: null };
          expectName = true;
        }
      }
    }
    var operations = definitions.filter(function (definition) {
      return definition.kind !== "fragment";
    });
    var chosen = operationName
      ? operations.filter(function (operation) {
          return operation.name === operationName;
        })[0]
      : operations.length === 1
        ? operations[0]
        : undefined;
    return chosen ? chosen.kind : undefined;
  }

  global.protogateOperationKind = operationKind;
})(typeof window === "undefined" ? globalThis : window);
