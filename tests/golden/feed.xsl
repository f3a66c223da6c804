<?xml version="1.0" encoding="UTF-8"?>
<!-- What a browser shows for feed.xml: the show, how to subscribe, and its episodes, read from the feed itself.
     Podcast apps ignore it. Written by panelpress (a show may override templates/feed.xsl). -->
<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
                xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd" exclude-result-prefixes="itunes">
<xsl:output method="html" encoding="UTF-8" indent="no" doctype-system="about:legacy-compat"/>

<!-- The site's own addresses, relative (the feed names them in full): so a preview of the site links within itself. -->
<xsl:variable name="site" select="/rss/channel/link"/>

<xsl:template name="local">
  <xsl:param name="url"/>
  <xsl:choose>
    <xsl:when test="$site and starts-with($url, $site)"><xsl:value-of select="substring-after($url, $site)"/></xsl:when>
    <xsl:otherwise><xsl:value-of select="$url"/></xsl:otherwise>
  </xsl:choose>
</xsl:template>

<xsl:template match="/">
<html lang="{rss/channel/language}">
<head>
<meta name="viewport" content="width=device-width, initial-scale=1"/>
<title><xsl:value-of select="rss/channel/title"/> — podcast feed</title>
<link rel="stylesheet" href="assets/site.css?v=f6ee1f8c27"/>
<script src="assets/site.js?v=cd7c2ffe20" defer="defer"></script>
</head>
<body>
<header class="site">
  <a class="home" href="index.html"><img src="icons/cover-192.jpg" alt="" width="64" height="64"/>
    <span class="site-title"><span class="name"><xsl:value-of select="rss/channel/title"/></span></span>
  </a>
</header>
<main id="main">
<h1>This is the podcast feed of <xsl:value-of select="rss/channel/title"/></h1>
<p>Podcast apps read this page to follow the show. To listen, give its address to your app, or open the
  <a href="index.html">show’s website</a>.</p>
<section class="subscribe" aria-labelledby="subscribe">
  <h2 id="subscribe">Subscribe</h2>
  <p>Follow the show in your podcast app:</p>
  <ul class="apps">
    <li><a class="app" href="pcast://pod.example.com/show/feed.xml"><span>Apple Podcasts</span></a></li>
    <li><a class="app" href="overcast://x-callback-url/add?url=https%3A%2F%2Fpod.example.com%2Fshow%2Ffeed.xml"><span>Overcast</span></a></li>
    <li><a class="app" href="pktc://subscribe/pod.example.com/show/feed.xml"><span>Pocket Casts</span></a></li>
    <li><a class="app" href="https://antennapod.org/deeplink/subscribe?url=https%3A%2F%2Fpod.example.com%2Fshow%2Ffeed.xml&amp;title=Test%20Panel"><span>AntennaPod</span></a></li>
    <li><a class="app" href="podcastaddict://pod.example.com/show/feed.xml"><span>Podcast Addict</span></a></li>
    <li><a class="app" href="castro://subscribe/pod.example.com/show/feed.xml"><span>Castro</span></a></li>
    <li><a class="app" href="https://podcastindex.org/search?q=https%3A%2F%2Fpod.example.com%2Fshow%2Ffeed.xml"><span>Podcast Index</span></a></li>
    <li><a class="app" href="podcast://pod.example.com/show/feed.xml"><span>Another app</span></a></li>
    <li><button type="button" class="app copy" data-copy="https://pod.example.com/show/feed.xml" hidden=""><span>Copy the feed’s address</span></button> <span class="status" role="status"></span></li>
  </ul>
  <p class="feed-url">Or give your app the address of the feed: <code>https://pod.example.com/show/feed.xml</code></p>
</section>

<h2 id="episodes">Episodes</h2>
<ul class="episodes" aria-labelledby="episodes">
<xsl:for-each select="rss/channel/item">
  <li>
    <h3><a><xsl:attribute name="href"><xsl:call-template name="local"><xsl:with-param name="url" select="link"/></xsl:call-template></xsl:attribute><xsl:value-of select="title"/></a></h3>
    <p class="meta"><xsl:value-of select="substring(pubDate, 6, 11)"/>
      <xsl:if test="itunes:duration"> · <xsl:call-template name="clock"><xsl:with-param name="seconds" select="number(itunes:duration)"/></xsl:call-template></xsl:if>
      · <a><xsl:attribute name="href"><xsl:call-template name="local"><xsl:with-param name="url" select="enclosure/@url"/></xsl:call-template></xsl:attribute>Download</a></p>
  </li>
</xsl:for-each>
</ul>
</main>
</body>
</html>
</xsl:template>

<!-- Seconds as M:SS or H:MM:SS, as the pages show them. -->
<xsl:template name="clock">
  <xsl:param name="seconds"/>
  <xsl:if test="$seconds &gt;= 3600"><xsl:value-of select="floor($seconds div 3600)"/>:<xsl:value-of select="format-number(floor($seconds mod 3600 div 60), '00')"/></xsl:if>
  <xsl:if test="$seconds &lt; 3600"><xsl:value-of select="floor($seconds div 60)"/></xsl:if>:<xsl:value-of select="format-number(floor($seconds mod 60), '00')"/>
</xsl:template>
</xsl:stylesheet>
