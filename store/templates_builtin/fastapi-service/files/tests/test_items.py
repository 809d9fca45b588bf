from app.items import ItemStore


def test_items_are_numbered_and_can_be_marked_done():
    store = ItemStore()
    first = store.add("write the README")
    second = store.add("  ship it  ")
    assert (first.id, second.id) == (1, 2)
    assert second.name == "ship it"
    assert store.mark_done(1).done
    assert [item.done for item in store.all()] == [True, False]
    assert store.get(3) is None
