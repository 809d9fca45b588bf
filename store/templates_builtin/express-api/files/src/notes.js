// Notes kept in memory, independent of HTTP.
class Notes {
  constructor() {
    this.items = new Map();
    this.nextId = 1;
  }

  add(text) {
    const trimmed = String(text ?? "").trim();
    if (!trimmed) throw new Error("a note needs text");
    const note = { id: this.nextId++, text: trimmed };
    this.items.set(note.id, note);
    return note;
  }

  all() {
    return [...this.items.values()];
  }
}

module.exports = { Notes };
