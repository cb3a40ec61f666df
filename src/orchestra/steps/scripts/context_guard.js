// What lets a worker run the next script in the context the last one ran in, as if it were a fresh one.
// Evaluated once, in a prepared context (chai loaded, nothing of a job yet), it records every object reachable
// from the global object — the built-ins, chai — through properties, accessors and prototypes: each one's
// prototype, extensibility and own property descriptors. It answers `settle`, which a worker calls after each
// job: it removes the globals the job added (the sandbox's `pm`…, the script's implicit globals), makes
// RegExp's legacy statics ($1…, input) forget the job's last match, and answers whether everything recorded is
// exactly as it was. Anything else (a prototype or chai changed, a global replaced or made non-configurable)
// answers false, and the worker throws the context away. `settle` is reachable from Python only, and uses
// only the functions it captured here, so a job cannot change what it checks with.
(function (root) {
  "use strict";
  var ownKeys = Reflect.ownKeys;
  var describe = Reflect.getOwnPropertyDescriptor;
  var prototypeOf = Reflect.getPrototypeOf;
  var isExtensible = Reflect.isExtensible;
  var remove = Reflect.deleteProperty;
  var apply = Reflect.apply;
  var same = Object.is;
  var hasOwn = Object.prototype.hasOwnProperty;
  var exec = RegExp.prototype.exec;
  var seen = new Map();
  var mapHas = Map.prototype.has;
  var mapSet = Map.prototype.set;
  var records = [];

  function visit(value) {
    if ((typeof value !== "object" && typeof value !== "function") || value === null) return;
    if (apply(mapHas, seen, [value])) return;
    apply(mapSet, seen, [value, true]);
    var keys = ownKeys(value);
    var descriptors = [];
    for (var i = 0; i < keys.length; i++) descriptors[i] = describe(value, keys[i]);
    records[records.length] = { object: value, prototype: prototypeOf(value), extensible: isExtensible(value), keys: keys, descriptors: descriptors };
    visit(prototypeOf(value));
    for (var j = 0; j < descriptors.length; j++) {
      var d = descriptors[j];
      if (apply(hasOwn, d, ["value"])) visit(d.value);
      else { visit(d.get); visit(d.set); }
    }
  }
  visit(root);
  var globals = new Map();
  for (var g = 0; g < records[0].keys.length; g++) apply(mapSet, globals, [records[0].keys[g], true]);
  seen = null;

  function unchanged(record) {
    var object = record.object;
    if (prototypeOf(object) !== record.prototype || isExtensible(object) !== record.extensible) return false;
    var keys = ownKeys(object);
    if (keys.length !== record.keys.length) return false;
    for (var i = 0; i < keys.length; i++) {
      if (keys[i] !== record.keys[i]) return false;
      var now = describe(object, keys[i]);
      var then = record.descriptors[i];
      var isData = apply(hasOwn, then, ["value"]);
      if (isData !== apply(hasOwn, now, ["value"])) return false;
      if (isData ? !same(now.value, then.value) || now.writable !== then.writable : now.get !== then.get || now.set !== then.set) return false;
      if (now.enumerable !== then.enumerable || now.configurable !== then.configurable) return false;
    }
    return true;
  }

  return function settle() {
    var keys = ownKeys(root);
    for (var i = 0; i < keys.length; i++) {
      if (!apply(mapHas, globals, [keys[i]]) && !remove(root, keys[i])) return false;
    }
    apply(exec, /(?:)/, [""]);
    for (var n = 0; n < records.length; n++) if (!unchanged(records[n])) return false;
    return true;
  };
})(this)
