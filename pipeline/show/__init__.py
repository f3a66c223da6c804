"""The show wing: the pure reduce (assemble, pages, feed, posts) and the show's own records (ledger, guard, artwork)."""
