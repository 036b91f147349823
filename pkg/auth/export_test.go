package auth

import "crypto/ed25519"

// PrivateKeyForTest lets tests forge tokens with a known key.
func PrivateKeyForTest(k SigningKey) ed25519.PrivateKey { return k.private }
