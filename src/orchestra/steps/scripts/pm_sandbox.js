// The Postman sandbox a script sees: `pm`, the legacy globals, chai's `expect`, and Postman's libraries
// (`require` of lodash, crypto-js, moment, tv4, ajv, xml2js, atob, btoa, chai; `_`, `CryptoJS`, `tv4`,
// `xml2Json`, `atob`, `btoa` as globals); nothing else (no process, no network but pm.sendRequest, no file
// system). `__orchestra_state` is set before this file runs: {phase, variables, data, request, response};
// `__orchestra_libs` holds the libraries the worker loaded (those the script names); `__orchestra_result()`
// answers what the script did.
(function (root) {
  "use strict";
  var state = root.__orchestra_state;
  var chai = root.chai;
  var libs = root.__orchestra_libs || {};
  var RESERVED = ["env", "secrets", "data", "vars", "run", "step", "response", "loop", "item", "suite", "params"];
  function nameOf(name) {
    // The variable's name in Orchestra (the same rule as the importer): base-url -> base_url, env -> pm_env.
    var base = String(name).replace(/[^A-Za-z0-9_]+/g, "_").replace(/^_+|_+$/g, "") || "var";
    if (/^[0-9]/.test(base) || RESERVED.indexOf(base) >= 0) base = "pm_" + base;
    return base;
  }
  var variables = state.variables || {};
  var data = state.data || {};
  var changed = {};
  var removed = {};
  var tests = [];

  function text(value) {
    if (value === undefined || value === null) return value;
    return typeof value === "string" ? value : JSON.stringify(value);
  }
  function scope(values, writable) {
    return {
      get: function (name) { var key = nameOf(name); return Object.prototype.hasOwnProperty.call(values, key) ? values[key] : undefined; },
      has: function (name) { return Object.prototype.hasOwnProperty.call(values, nameOf(name)); },
      set: function (name, value) {
        if (!writable) throw new TypeError("iterationData is read-only");
        var key = nameOf(name); values[key] = value; changed[key] = value; delete removed[key];
      },
      unset: function (name) {
        if (!writable) throw new TypeError("iterationData is read-only");
        var key = nameOf(name); delete values[key]; delete changed[key]; removed[key] = true;
      },
      clear: function () { Object.keys(values).forEach(function (key) { delete values[key]; removed[key] = true; }); changed = {}; },
      toObject: function () { return JSON.parse(JSON.stringify(values)); },
      replaceIn: function (template) {
        return String(template).replace(/\{\{\s*([^{}]+?)\s*\}\}/g, function (whole, name) {
          var value = scope(values, false).get(name);
          return value === undefined ? whole : text(value);
        });
      },
    };
  }
  // Orchestra has one set of run variables: every Postman scope reads and writes it (iteration data on top).
  var shared = scope(variables, true);
  var merged = {};
  function variablesView() {
    Object.keys(merged).forEach(function (key) { delete merged[key]; });
    Object.assign(merged, variables, data);
    return scope(merged, false);
  }

  function headerList(headers) {
    var list = headers || [];
    return {
      get: function (name) {
        var wanted = String(name).toLowerCase();
        for (var i = 0; i < list.length; i++) if (list[i][0].toLowerCase() === wanted) return list[i][1];
        return undefined;
      },
      has: function (name) { return this.get(name) !== undefined; },
      toObject: function () { var out = {}; list.forEach(function (pair) { out[pair[0]] = pair[1]; }); return out; },
      all: function () { return list.map(function (pair) { return { key: pair[0], value: pair[1] }; }); },
      each: function (callback) { list.forEach(function (pair) { callback({ key: pair[0], value: pair[1] }); }); },
      count: function () { return list.length; },
    };
  }

  var request = state.request || {};
  var pmRequest = {
    url: { toString: function () { return request.url || ""; } },
    method: request.method || "GET",
    headers: headerList(request.headers),
    body: request.body === undefined ? undefined : { raw: request.body, toString: function () { return request.body || ""; } },
  };

  // The response API, for pm.response and (without the `to` assertions, as in newman) for the responses
  // pm.sendRequest hands its callbacks.
  function responseApi(response, withAssertions) {
    var parsed;
    var parsedOnce = false;
    var json = function () {
      if (!parsedOnce) { parsed = JSON.parse(response.body); parsedOnce = true; }
      return parsed;
    };
    var assertStatus = function (expected) {
      if (response.code !== expected) {
        throw new chai.AssertionError("expected response to have status code " + expected + " but got " + response.code);
      }
    };
    var inRange = function (low, high, what) {
      if (response.code < low || response.code > high) {
        throw new chai.AssertionError("expected response code to be " + what + " but found " + response.code);
      }
    };
    var be = {};
    [["ok", 200, 200, "200"], ["success", 200, 299, "2XX"], ["redirection", 300, 399, "3XX"],
     ["clientError", 400, 499, "4XX"], ["serverError", 500, 599, "5XX"], ["error", 400, 599, "4XX or 5XX"],
     ["badRequest", 400, 400, "400"], ["unauthorized", 401, 401, "401"], ["forbidden", 403, 403, "403"],
     ["notFound", 404, 404, "404"], ["accepted", 202, 202, "202"], ["rateLimited", 429, 429, "429"]]
      .forEach(function (entry) {
        Object.defineProperty(be, entry[0], { get: function () { inRange(entry[1], entry[2], entry[3]); return true; } });
      });
    Object.defineProperty(be, "json", { get: function () { json(); return true; } });
    var have = {
      status: function (expected) {
        if (typeof expected === "number") return assertStatus(expected);
        chai.expect(response.status, "expected response to have status reason").to.equal(expected);
      },
      header: function (name, value) {
        var found = headerList(response.headers).get(name);
        chai.expect(found !== undefined, "expected response to have header " + name).to.equal(true);
        if (arguments.length > 1) chai.expect(found, "expected header " + name + " to be " + value).to.equal(value);
      },
      body: function (expected) {
        if (arguments.length === 0) chai.expect(response.body.length > 0, "expected response to have a body").to.equal(true);
        else if (expected instanceof RegExp) chai.expect(response.body).to.match(expected);
        else chai.expect(response.body).to.equal(expected);
      },
      jsonBody: function (path, value) {
        var body = json();
        if (arguments.length === 0) return;
        var current = body;
        String(path).split(".").forEach(function (part) { current = current === undefined || current === null ? undefined : current[part]; });
        if (arguments.length === 1) chai.expect(current, "expected response to have JSON property " + path).to.not.equal(undefined);
        else chai.expect(current).to.deep.equal(value);
      },
      jsonSchema: function () { throw new Error("pm.response.to.have.jsonSchema is not supported"); },
      responseTime: { below: function (limit) { chai.expect(response.responseTime).to.be.below(limit); } },
    };
    var not = { have: { status: function (expected) { chai.expect(response.code).to.not.equal(expected); } } };
    var api = {
      code: response.code,
      status: response.status,
      responseTime: response.responseTime,
      responseSize: response.body.length,
      headers: headerList(response.headers),
      json: json,
      text: function () { return response.body; },
    };
    if (withAssertions) api.to = { have: have, be: be, not: not };
    return api;
  }
  var response = state.response;
  var pmResponse = response ? responseApi(response, true) : undefined;

  // pm.sendRequest: the request is queued here; once the script (or the callback before) has returned, the
  // worker asks Orchestra to send the next one (under the step's egress policy) and hands the answer to its
  // callback, as (error, response). A script may send at most state.maxRequests.
  var sendQueue = [];
  var sendCount = 0;
  var maxRequests = typeof state.maxRequests === "number" ? state.maxRequests : 0;
  function pairsOf(headers) {
    if (!headers) return [];
    if (typeof headers === "string") {
      return headers.split("\n").filter(function (line) { return line.indexOf(":") > 0; }).map(function (line) {
        var at = line.indexOf(":"); return [line.slice(0, at).trim(), line.slice(at + 1).trim()];
      });
    }
    if (Array.isArray(headers)) {
      return headers.filter(function (h) { return h && !h.disabled; }).map(function (h) { return [String(h.key), String(h.value)]; });
    }
    if (typeof headers.toObject === "function") headers = headers.toObject();
    return Object.keys(headers).map(function (key) { return [key, String(headers[key])]; });
  }
  function hasHeader(pairs, name) {
    return pairs.some(function (pair) { return pair[0].toLowerCase() === name; });
  }
  function encodePairs(fields) {
    return (fields || []).filter(function (f) { return f && !f.disabled; }).map(function (f) {
      return encodeURIComponent(f.key) + "=" + encodeURIComponent(f.value === undefined ? "" : f.value);
    }).join("&");
  }
  function requestSpec(given) {
    if (typeof given === "string") return { method: "GET", url: given, headers: [], body: null };
    if (!given || typeof given !== "object") throw new TypeError("pm.sendRequest needs a URL or a request object");
    var url = given.url;
    if (url && typeof url === "object") url = typeof url.raw === "string" ? url.raw : String(url);
    if (typeof url !== "string" || !url) throw new TypeError("pm.sendRequest: the request has no URL");
    var headers = pairsOf(given.header || given.headers);
    var body = given.body, text = null;
    if (typeof body === "string") text = body;
    else if (body && typeof body === "object") {
      var mode = body.mode || "raw";
      if (mode === "raw") text = body.raw === undefined ? null : typeof body.raw === "string" ? body.raw : JSON.stringify(body.raw);
      else if (mode === "formdata") {
        var parts = (body.formdata || []).filter(function (f) { return f && !f.disabled; });
        if (parts.some(function (f) { return f.type === "file"; })) throw new TypeError("pm.sendRequest: file fields are not supported");
        return { method: String(given.method || "GET").toUpperCase(), url: url, headers: headers, body: null,
                 multipart: parts.map(function (f) { return [String(f.key), f.value === undefined ? "" : String(f.value)]; }) };
      } else if (mode === "urlencoded") {
        text = encodePairs(body.urlencoded);
        if (!hasHeader(headers, "content-type")) headers.push(["Content-Type", "application/x-www-form-urlencoded"]);
      } else if (mode === "graphql") {
        text = JSON.stringify(body.graphql || {});
        if (!hasHeader(headers, "content-type")) headers.push(["Content-Type", "application/json"]);
      } else throw new TypeError("pm.sendRequest: a body of mode " + mode + " is not supported");
    }
    return { method: String(given.method || "GET").toUpperCase(), url: url, headers: headers, body: text };
  }
  // As newman: the callback (if any) gets (error, response); the call answers pm, not a promise.
  function sendRequest(given, callback) {
    if (!given) {
      if (typeof callback === "function") callback(new Error("sendrequest: nothing to request"));
      return pm;
    }
    if (sendCount >= maxRequests) {
      throw new Error(maxRequests ? "pm.sendRequest: a script may send at most " + maxRequests + " requests" : "pm.sendRequest is not available here");
    }
    var spec = requestSpec(given);
    sendCount += 1;
    sendQueue.push({ spec: spec, callback: typeof callback === "function" ? callback : null });
    return pm;
  }
  root.__orchestra_next_request = function () {
    return sendQueue.length ? JSON.stringify(sendQueue[0].spec) : null;
  };
  // A request that got no response: the callback's error is a plain object with a Node.js-like `code`, as
  // newman's (which is not an Error either), and Orchestra's `message`; the response is an empty one.
  var NO_RESPONSE = { code: undefined, status: undefined, headers: [], body: "", responseTime: undefined };
  root.__orchestra_deliver = function (answer) {
    var entry = sendQueue.shift();
    if (!entry.callback) return;
    if (answer.error !== undefined && answer.error !== null) {
      entry.callback({ code: String(answer.code || "EREQUEST"), message: String(answer.error) }, responseApi(NO_RESPONSE, false));
    } else entry.callback(null, responseApi(answer.response, false));
  };

  function recordTest(name, passed, error) {
    tests.push({ name: String(name), passed: passed, error: error || null });
  }
  var pm = {
    info: { eventName: state.phase, requestName: state.requestName || "", iteration: state.iteration || 0, iterationCount: state.iterationCount || 1 },
    test: function (name, callback) {
      try {
        callback();
        recordTest(name, true);
      } catch (error) {
        recordTest(name, false, (error && error.name ? error.name + ": " : "") + (error && error.message !== undefined ? error.message : String(error)));
      }
    },
    expect: function (value, message) {
      if (!chai) throw new Error("pm.expect needs chai, which is not installed (make js-vendor)");
      return chai.expect(value, message);
    },
    environment: shared,
    collectionVariables: shared,
    globals: shared,
    // A data row's values are the run's variables (orchestra run --data): iteration data reads them.
    iterationData: scope(Object.keys(data).length ? data : variables, false),
    request: pmRequest,
    response: pmResponse,
    sendRequest: sendRequest,
  };
  Object.defineProperty(pm, "variables", { get: function () {
    var view = variablesView();
    view.set = shared.set; view.unset = shared.unset;
    return view;
  } });

  // postman.setNextRequest / pm.execution.setNextRequest: the last call wins; Orchestra's run goes to that
  // request after this one (null, or a name no request has: the collection stops), as newman does.
  var nextRequest = { set: false, value: null };
  function setNextRequest(what) {
    nextRequest.set = true;
    nextRequest.value = typeof what === "string" ? what : what === null || what === undefined ? null : String(what);
  }
  pm.execution = { setNextRequest: setNextRequest };

  var legacyTests = {};
  var postman = {
    setEnvironmentVariable: shared.set, getEnvironmentVariable: shared.get, clearEnvironmentVariable: shared.unset,
    setGlobalVariable: shared.set, getGlobalVariable: shared.get, clearGlobalVariable: shared.unset,
    setNextRequest: setNextRequest,
    getResponseHeader: function (name) { return pmResponse ? pmResponse.headers.get(name) : undefined; },
  };

  var CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=";
  function btoa(input) {
    var str = String(input), output = "";
    for (var block, charCode, idx = 0, map = CHARS; str.charAt(idx | 0) || (map = "=", idx % 1); output += map.charAt(63 & block >> 8 - idx % 1 * 8)) {
      charCode = str.charCodeAt(idx += 3 / 4);
      if (charCode > 0xFF) throw new Error("btoa: the string has characters outside Latin1");
      block = block << 8 | charCode;
    }
    return output;
  }
  function atob(input) {
    var str = String(input).replace(/=+$/, ""), output = "";
    for (var bc = 0, bs, buffer, idx = 0; (buffer = str.charAt(idx++)); ~buffer && (bs = bc % 4 ? bs * 64 + buffer : buffer, bc++ % 4) ? output += String.fromCharCode(255 & bs >> (-2 * bc & 6)) : 0) {
      buffer = CHARS.indexOf(buffer);
    }
    return output;
  }

  // Postman's xml2Json: xml2js, synchronously, with Postman's options; undefined when the XML is not valid.
  function xml2Json(text) {
    if (!libs.xml2js) throw new Error("xml2Json needs xml2js, which is not installed (make js-vendor)");
    var json = {};
    libs.xml2js.parseString(text, { explicitArray: false, async: false, trim: true, mergeAttrs: false }, function (_, result) {
      json = result;
    });
    return json;
  }
  var modules = { atob: atob, btoa: btoa };
  if (chai) modules.chai = chai;
  Object.keys(libs).forEach(function (name) { if (name !== "lodash3" && libs[name]) modules[name] = libs[name]; });
  function require(name) {
    if (Object.prototype.hasOwnProperty.call(modules, name)) return modules[name];
    var known = ["lodash", "crypto-js", "moment", "tv4", "ajv", "xml2js", "chai"];
    if (known.indexOf(name) >= 0) throw new Error("Cannot find module '" + name + "' (the library is not installed: make js-vendor)");
    throw new Error("Cannot find module '" + name + "'");
  }

  root.require = require;
  if (libs.lodash3) root._ = libs.lodash3;
  if (libs["crypto-js"]) root.CryptoJS = libs["crypto-js"];
  if (libs.tv4) root.tv4 = libs.tv4;
  root.xml2Json = xml2Json;
  root.pm = pm;
  root.postman = postman;
  root.tests = legacyTests;
  root.atob = atob;
  root.btoa = btoa;
  root.globals = variables;
  root.environment = variables;
  root.data = data;
  root.iteration = state.iteration || 0;
  root.request = { url: request.url, method: request.method, headers: pmRequest.headers.toObject(), data: request.body };
  if (response) {
    root.responseBody = response.body;
    root.responseCode = { code: response.code, name: response.status, detail: response.status };
    root.responseTime = response.responseTime;
    // Header names arrive lower-cased: looked up whatever their case, as HTTP means them.
    root.responseHeaders = new Proxy(pmResponse.headers.toObject(), {
      get: function (target, name) { return typeof name === "string" ? target[name.toLowerCase()] : undefined; },
      has: function (target, name) { return typeof name === "string" && name.toLowerCase() in target; },
    });
  }
  root.console = { log: function () {}, info: function () {}, warn: function () {}, error: function () {}, debug: function () {} };

  root.__orchestra_result = function () {
    Object.keys(legacyTests).forEach(function (name) { recordTest(name, Boolean(legacyTests[name]), legacyTests[name] ? null : "tests[\"" + name + "\"] is false"); });
    var result = { tests: tests, changed: changed, removed: Object.keys(removed) };
    if (nextRequest.set) result.next = nextRequest.value;
    return JSON.stringify(result);
  };
})(this);
