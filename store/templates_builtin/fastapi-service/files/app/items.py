"""The items the service keeps, independent of HTTP."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Item:
    id: int
    name: str
    done: bool = False


class ItemStore:
    """Items in memory, numbered from 1."""

    def __init__(self) -> None:
        self._items: dict[int, Item] = {}
        self._next_id = 1

    def add(self, name: str) -> Item:
        name = name.strip()
        if not name:
            raise ValueError("an item needs a name")
        item = Item(id=self._next_id, name=name)
        self._items[item.id] = item
        self._next_id += 1
        return item

    def get(self, item_id: int) -> Item | None:
        return self._items.get(item_id)

    def all(self) -> list[Item]:
        return list(self._items.values())

    def mark_done(self, item_id: int) -> Item | None:
        item = self._items.get(item_id)
        if item is None:
            return None
        self._items[item_id] = Item(id=item.id, name=item.name, done=True)
        return self._items[item_id]
