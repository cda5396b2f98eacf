// Package docs holds scf-janitor's reference documentation (the Markdown
// files next to this one); it has no code. Its tests check that every
// relative link in README.md and docs/*.md points at an existing file and,
// when it names one, an existing heading; that every JANITOR_ setting the
// code reads is documented; and that the CLS queries of operations.md search
// for text the code logs.
package docs
