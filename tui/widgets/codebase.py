"""A file tree and a syntax-highlighted viewer of stored files."""

from __future__ import annotations

from rich.syntax import Syntax
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Static, Tree

from store import text as text_safety


def tree_order(path: str) -> tuple[bool, str]:
    """Files in folders first, as the tree shows them."""
    return (path.count("/") == 0, path)


def file_view(path: str, content: str) -> Syntax:
    """A stored file as it reads, coloured: hidden characters shown as
    stand-ins (``store.text``), never sent to the terminal."""
    return Syntax(
        text_safety.visible(content.replace("\r\n", "\n"), multiline=True),
        Syntax.guess_lexer(path, content),
        line_numbers=True,
        word_wrap=False,
        theme="monokai",
    )


class FileBrowser(Horizontal):
    """Files as a tree (folders first) beside the selected file's content;
    ``y`` copies the selected file's path."""

    BINDINGS = [Binding("y", "copy_path", "Copy path", show=False)]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.files: dict[str, str] = {}

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

    def _view(self, path: str | None) -> None:
        content = self.query_one(".file-content", Static)
        if path is None:
            content.update("No files stored." if not self.files else "")
            return
        content.update(file_view(path, self.files[path]))

    @on(Tree.NodeHighlighted)
    def _highlighted(self, event: Tree.NodeHighlighted[str]) -> None:
        if event.node.data is not None:
            self._view(event.node.data)
