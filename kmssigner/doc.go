// Package kmssigner signs Amazon CloudFront policies with a private key
// that never leaves AWS KMS.
//
// A [Signer] is a [crypto.Signer] over one asymmetric KMS key: its public
// key comes from KMS GetPublicKey, and each signature is one KMS Sign call
// over the policy's SHA-256 digest. Give it to the signer package of this
// repository (github.com/cfcookies/cfcookies/signer) with SHA-256:
//
//	key, err := kmssigner.New(ctx, kms.NewFromConfig(cfg), "alias/cloudfront-cookies", kmssigner.Options{})
//	...
//	s, err := signer.New("K2JCJMDEHXQW5F", key, signer.Options{HashAlgorithm: signer.SHA256})
//
// Register the key's public key ([Signer.Public], PEM-encoded) in
// CloudFront's key group under that key pair ID.
//
// What CloudFront and KMS both accept:
//
//   - Key spec RSA_2048 (RSASSA_PKCS1_V1_5_SHA_256) or ECC_NIST_P256
//     (ECDSA_SHA_256, whose ASN.1 DER signature is what CloudFront
//     expects), key usage SIGN_VERIFY. [New] refuses anything else.
//   - SHA-256 only: KMS signs no SHA-1 digest, so the cookies carry
//     CloudFront-Hash-Algorithm=SHA256. A SHA-1 request fails with
//     [ErrUnsupported] before any call to KMS.
//   - Every signature KMS answers, the start-up check of [New] included,
//     is verified with the public key before it is returned: one that
//     does not verify is [ErrBadSignature], never a cookie CloudFront
//     would refuse.
//
// Every signature is a network call with KMS's latency and request quota
// (a ThrottlingException beyond it): keep a signature cache in front of
// it, such as the one of the signer module's HTTP package, and bound each
// call with the request's context through [Signer.SignContext] (the signer
// package's Signer.SignContext passes it on). [Options].OnSign reports
// each call's duration and error for metrics.
//
// This package is a module of its own, so that the signer module keeps no
// dependency on the AWS SDK's KMS client. Its kmstest package runs the
// open-source local-kms emulator for tests.
package kmssigner
