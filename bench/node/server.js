// The load test's Node peer: the Express server a Node team would write with
// @aws-sdk/cloudfront-signer, doing what cfcookies' POST /auth/media-cookies
// does in dev mode (identity from X-Dev-User, one custom policy for
// /media/{user}/*, the three CloudFront cookies with Path, Secure, HttpOnly,
// SameSite, Expires and Max-Age, the same JSON answer), without logging.
// The private key is parsed once (crypto.createPrivateKey); pass
// KEY_AS_PEM=1 to hand the PEM string to every call instead, as most code
// does.
//
//   PORT=18091 HOST=127.0.0.1 KEY_FILE=key.pem KEY_PAIR_ID=K1 node server.js
"use strict";

const crypto = require("node:crypto");
const fs = require("node:fs");
const express = require("express");
const { getSignedCookies } = require("@aws-sdk/cloudfront-signer");

const host = process.env.HOST || "127.0.0.1";
const port = Number(process.env.PORT || 18091);
const domain = process.env.DOMAIN || "https://media.example.com";
const keyPairId = process.env.KEY_PAIR_ID || "KBENCH";
const ttlSeconds = Number(process.env.TTL_SECONDS || 600);
const pem = fs.readFileSync(process.env.KEY_FILE, "utf8");
const privateKey = process.env.KEY_AS_PEM === "1" ? pem : crypto.createPrivateKey(pem);

const app = express();
app.disable("x-powered-by");

app.post("/auth/media-cookies", (req, res) => {
  const user = req.get("X-Dev-User") || "dev";
  const now = Date.now();
  const expires = Math.floor((now + ttlSeconds * 1000) / 1000);
  const resource = `${domain}/media/${user}/*`;
  const policy = JSON.stringify({
    Statement: [{ Resource: resource, Condition: { DateLessThan: { "AWS:EpochTime": expires } } }],
  });
  const signed = getSignedCookies({ keyPairId, privateKey, policy });
  const options = {
    path: "/",
    secure: true,
    httpOnly: true,
    sameSite: "lax",
    maxAge: expires * 1000 - now, // Express sets Max-Age and Expires from it
    encode: String, // the values are CloudFront base64 already
  };
  for (const name of ["CloudFront-Policy", "CloudFront-Signature", "CloudFront-Key-Pair-Id"]) {
    res.cookie(name, signed[name], options);
  }
  res.set("Cache-Control", "no-store");
  res.json({
    expiresAt: new Date(expires * 1000).toISOString().replace(".000Z", "Z"),
    refreshAfter: new Date(Math.floor((now + ttlSeconds * 800) / 1000) * 1000).toISOString().replace(".000Z", "Z"),
    grants: [{ scope: "default", resource, cookiePath: "/" }],
  });
});

app.get("/healthz", (req, res) => res.json({ status: "ok" }));

app.listen(port, host);
