"""The footer of every screen: Textual's, with one change for narrow
terminals. Textual lists the focused widget's keys, then the screen's, then
the app's, and cuts what does not fit: at 80 columns the app's ``?`` (Help)
and ``q`` (Quit) were the first to go. When not every key fits, the app's
keys move to the front; when all fit, the order is Textual's."""

from __future__ import annotations

from textual.widgets import Footer
from textual.widgets._footer import FooterKey


class DeckFooter(Footer):
    async def recompose(self) -> None:
        await super().recompose()
        self.call_after_refresh(self._app_keys_first)

    def on_resize(self) -> None:
        self.call_after_refresh(self._app_keys_first)

    def _app_keys_first(self) -> None:
        keys = [child for child in self.children if isinstance(child, FooterKey)]
        if not keys or not self._cut():
            return
        app_keys = {
            (active.binding.key, active.binding.action)
            for active in self.screen.active_bindings.values()
            if active.node is self.app and active.binding.show
        }
        first = [key for key in keys if (key.key, key.action) in app_keys]
        for key in reversed(first):
            if key is not self.children[0]:
                self.move_child(key, before=0)

    def _cut(self) -> bool:
        """Whether some key is drawn past the footer's right edge (or under
        the command palette's key, docked there)."""
        right = self.region.right
        for child in self.children:
            if isinstance(child, FooterKey) and child.has_class("-command-palette"):
                right = min(right, child.region.x)
        return any(
            child.region.right > right
            for child in self.children
            if not (isinstance(child, FooterKey) and child.has_class("-command-palette"))
        )
