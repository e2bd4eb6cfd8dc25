"""Chat tags (made by Open WebUI's tags task) are searchable: `tag:NAME` in a search keeps to
the chats with that tag, and alone lists them (real SQLite files)."""

from __future__ import annotations

from tuichat.store import Store
from tuichat.store.search import MATCH_END, MATCH_START


async def test_tag_words_narrow_a_search_and_alone_list_the_tagged_chats(store: Store) -> None:
    birds = await store.chats.create("Birds")
    await store.chats.add_message(birds.id, "user", "pelicans fly south")
    fish = await store.chats.create("Fish")
    await store.chats.add_message(fish.id, "user", "pelicans eat fish")
    await store.tags.set(birds.id, ["Nature", "Web Dev"])
    await store.tags.set(fish.id, ["Nature"])

    listed = await store.chats.search("tag:nature")
    assert [h.chat_id for h in listed] == [fish.id, birds.id]  # newest first
    assert listed[0].snippet == f"{MATCH_START}#nature{MATCH_END}" and listed[0].message_id is None
    assert [h.chat_id for h in await store.chats.search("tag:web_dev tag:NATURE")] == [birds.id]  # every tag
    narrowed = await store.chats.search("pelicans tag:web_dev")
    assert [(h.chat_id, h.message_id is not None) for h in narrowed] == [(birds.id, True)]
    assert await store.chats.search("tag:nothing") == []
    assert len(await store.chats.search("pelicans")) == 2  # without a tag word, as before
