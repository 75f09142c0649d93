// Package deploy holds what an operator needs to run cfcookies on AWS and the
// tests that check it offline: the Dockerfile at the repository root,
// terraform/ (CloudFront, key group, the signing key in KMS or Secrets
// Manager, S3, ECS) and ecs/task-definition.json.
//
// The tests assert the settings whose mistakes break signed cookies or the
// container, against the service's own code where they can: the variables
// config.Load reads, the routes handlers.NewServer serves and
// config.ShutdownTimeout. They evaluate the module offline for each example
// in terraform/examples and each place of the signing key (signing_key "kms"
// with either key spec, and "secret"), as a plan would, without the AWS
// provider. image_test.go (build tag image, which make check
// sets) builds the image with buildah and runs it with podman (no Docker
// engine needed); it is skipped when they are not installed, except under
// CI=true.
package deploy
