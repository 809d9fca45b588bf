const express = require("express");
const { Notes } = require("./notes");

function createApp(notes = new Notes()) {
  const app = express();
  app.use(express.json());
  app.get("/health", (req, res) => res.json({ status: "ok" }));
  app.get("/notes", (req, res) => res.json(notes.all()));
  app.post("/notes", (req, res) => {
    try {
      res.status(201).json(notes.add(req.body.text));
    } catch (error) {
      res.status(422).json({ error: error.message });
    }
  });
  return app;
}

module.exports = { createApp };
