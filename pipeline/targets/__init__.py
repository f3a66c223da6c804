"""Targets: where a site plan is applied. A target knows files and bytes, not episodes.

`folder.Folder` writes the site into a folder (the blog's published folder), `blog.Blog` into a blog and its
static folder, `preview.Preview` serves it from memory; each does what the `seam.Target` protocol asks.
"""
