// Package staff signs practice staff and support engineers in to /admin: argon2id password
// hashes in PHC format, and sign-in sessions stored by the hash of their token.
package staff
