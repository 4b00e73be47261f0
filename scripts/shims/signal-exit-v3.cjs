// proper-lockfile calls signal-exit 3's `onExit(cb)`; version 4 has the same function without loading `assert` at
// start-up.
module.exports = require('signal-exit-v4').onExit;
