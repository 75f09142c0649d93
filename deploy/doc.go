// Package deploy holds what an operator needs to run cfcookies on AWS and the
// tests that check it offline: the Dockerfile at the repository root,
// terraform/ (CloudFront, key group, S3, ECS, Secrets Manager) and
// ecs/task-definition.json.
//
// The tests assert the settings whose mistakes break signed cookies or the
// container, against the service's own code where they can: the variables
// config.Load reads, the routes handlers.NewServer serves and
// config.ShutdownTimeout. image_test.go (build tag image, which make check
// sets) builds the image with buildah and runs it with podman (no Docker
// engine needed); it is skipped when they are not installed, except under
// CI=true.
package deploy
