"""A file tree and a syntax-highlighted viewer of stored files (coloured
for the app's theme, dark or light), each openable in the person's editor."""

from __future__ import annotations

from rich.syntax import Syntax
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Static, Tree

from store import text as text_safety
from tui.editor import view_in_editor
from tui.widgets.code_theme import DARK, app_syntax_theme


def tree_order(path: str) -> tuple[bool, str]:
    """Files in folders first, as the tree shows them."""
    return (path.count("/") == 0, path)


def file_view(path: str, content: str, theme: str = DARK) -> Syntax:
    """A stored file as it reads, coloured in the Pygments style ``theme``:
    hidden characters shown as stand-ins (``store.text``), never sent to
    the terminal."""
    return Syntax(
        text_safety.visible(content.replace("\r\n", "\n"), multiline=True),
        Syntax.guess_lexer(path, content),
        line_numbers=True,
        word_wrap=False,
        theme=theme,
    )


class FileBrowser(Horizontal):
    """Files as a tree (folders first) beside the selected file's content;
    ``y`` copies the selected file's path, ``o`` opens the file (a read-only
    copy of it) in the person's editor."""

    BINDINGS = [
        Binding("y", "copy_path", "Copy path", show=False, id="codebase.copy_path"),
        Binding("o", "open_in_editor", "Open in editor", show=False, id="codebase.open_in_editor"),
    ]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.files: dict[str, str] = {}
        # The file on show (None: none).
        self.shown: str | None = None

    def on_mount(self) -> None:
        self.app.theme_changed_signal.subscribe(self, self._theme_changed)

    def _theme_changed(self, _theme: object) -> None:
        self._view(self.shown)

    def compose(self) -> ComposeResult:
        tree: Tree[str] = Tree("files", classes="file-tree")
        tree.show_root = False
        yield tree
        with VerticalScroll(classes="file-view"):
            yield Static("", classes="file-content")

    def show(self, files: dict[str, str]) -> None:
        self.files = dict(files)
        tree = self.query_one(Tree)
        tree.clear()
        folders: dict[str, object] = {}
        for path in sorted(self.files, key=tree_order):
            parent = tree.root
            parts = path.split("/")
            for depth in range(1, len(parts)):
                folder = "/".join(parts[:depth])
                node = folders.get(folder)
                if node is None:
                    node = parent.add(parts[depth - 1] + "/", expand=True)
                    folders[folder] = node
                parent = node  # type: ignore[assignment]
            parent.add_leaf(parts[-1], data=path)
        first = min(self.files, key=tree_order, default=None)
        self._view(first)

    def refresh_files(self, files: dict[str, str]) -> None:
        """Show ``files``; when only contents changed (a preview re-rendered
        as someone types), the tree and its highlighted file stay put."""
        if set(files) != set(self.files):
            self.show(files)
            return
        self.files = dict(files)
        node = self.query_one(Tree).cursor_node
        path = node.data if node is not None and node.data is not None else None
        self._view(path if path is not None else min(self.files, key=tree_order, default=None))

    def action_copy_path(self) -> None:
        from tui.context import copy_to_clipboard

        node = self.query_one(Tree).cursor_node
        if node is not None and node.data is not None:
            copy_to_clipboard(self, node.data, f"the path {node.data}")

    def action_open_in_editor(self) -> None:
        """The selected file as stored, in the person's editor: a read-only
        copy, gone once the editor exits (nothing it writes is kept)."""
        node = self.query_one(Tree).cursor_node
        path = node.data if node is not None else None
        if path is None or path not in self.files:
            self.notify("Select a file to open it", severity="warning")
            return
        view_in_editor(self, path, self.files[path], kept="the stored file")

    def _view(self, path: str | None) -> None:
        content = self.query_one(".file-content", Static)
        self.shown = path if path is not None and path in self.files else None
        if self.shown is None:
            content.update("No files stored." if not self.files else "")
            return
        content.update(file_view(self.shown, self.files[self.shown], app_syntax_theme(self.app)))

    @on(Tree.NodeHighlighted)
    def _highlighted(self, event: Tree.NodeHighlighted[str]) -> None:
        if event.node.data is not None:
            self._view(event.node.data)
