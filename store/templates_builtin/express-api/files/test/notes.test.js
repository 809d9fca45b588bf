const test = require("node:test");
const assert = require("node:assert");
const { Notes } = require("../src/notes");

test("notes are numbered and trimmed, empty ones refused", () => {
  const notes = new Notes();
  assert.deepStrictEqual(notes.add("  hello "), { id: 1, text: "hello" });
  assert.throws(() => notes.add("   "), /needs text/);
  assert.strictEqual(notes.all().length, 1);
});
