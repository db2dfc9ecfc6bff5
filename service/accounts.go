package service

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"

	"github.com/redlane/redlane/domain"
	"github.com/redlane/redlane/domain/access"
)

// Credentials keeps accounts' password hashes where no reader of the log can see them
// (a NATS KV bucket readers are denied). The hashes are bcrypt's: slow and salted.
type Credentials interface {
	// SetPasswordHash stores the hash of an account's password, replacing any before.
	SetPasswordHash(ctx context.Context, account string, hash []byte) error
	// PasswordHash returns an account's hash; nil and no error when it has none.
	PasswordHash(ctx context.Context, account string) ([]byte, error)
}

// APISession marks the token id a session stands for when it was started through the
// API (POST /api/v1/sessions) rather than by the pages' sign-in: an API session is a
// bearer token and never a cookie, a page's session a cookie and never a bearer token.
const APISession = "api:"

// Passwords are 8 to 72 bytes (bcrypt reads no further than 72).
const (
	MinPassword = 8
	MaxPassword = 72
)

// NewAccount is what an admin gives to open a person's account.
type NewAccount struct {
	Username string
	Password string
	access.Issue
}

func checkPassword(v *domain.Validator, p string) {
	v.Check(utf8.RuneCountInString(p) >= MinPassword, "password", "must be at least 8 characters")
	v.Check(len(p) <= MaxPassword, "password", "must be at most 72 bytes")
}

// CreateAccount opens a person's account: a token named by its username, whose
// sessions start with a password check (SignIn). Only an admin opens accounts.
func (s *Service) CreateAccount(ctx context.Context, m domain.Meta, a NewAccount) (_ access.State, err error) {
	defer s.observe("token", "create_account", time.Now(), &err)
	if m.Actor.Role != domain.RoleAdmin {
		return access.State{}, domain.Refuse(domain.KindForbidden, domain.CodeAdminOnly, "only an admin manages accounts")
	}
	if s.cfg.Credentials == nil {
		return access.State{}, domain.Errorf(domain.KindInternal, "accounts need a credentials store")
	}
	var v domain.Validator
	v.Check(access.ValidUsername(a.Username), "username", "must be 3 to 32 lower-case letters, digits, '.', '_' or '-', starting with a letter or digit")
	checkPassword(&v, a.Password)
	if err := v.Err(); err != nil {
		return access.State{}, err
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(a.Password), s.passwordCost())
	if err != nil {
		return access.State{}, err
	}
	// The account's token secret is never handed out: only its digest is recorded.
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return access.State{}, err
	}
	a.Issue.Username = a.Username
	id, _, err := s.issue(ctx, m, access.AccountID(a.Username), a.Issue, hex.EncodeToString(secret))
	if err != nil {
		return access.State{}, err
	}
	if err := s.cfg.Credentials.SetPasswordHash(ctx, id, hash); err != nil {
		return access.State{}, err
	}
	t, _ := s.Dir.Token(id)
	return t, nil
}

// SetPassword gives an account a new password (an admin resetting a forgotten one).
func (s *Service) SetPassword(ctx context.Context, m domain.Meta, username, password string) (err error) {
	defer s.observe("token", "set_password", time.Now(), &err)
	if m.Actor.Role != domain.RoleAdmin {
		return domain.Refuse(domain.KindForbidden, domain.CodeAdminOnly, "only an admin manages accounts")
	}
	t, ok := s.Dir.Account(username)
	if !ok {
		return domain.Refuse(domain.KindNotFound, domain.CodeTokenNotFound, "no account %s", username)
	}
	var v domain.Validator
	checkPassword(&v, password)
	if err := v.Err(); err != nil {
		return err
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), s.passwordCost())
	if err != nil {
		return err
	}
	return s.cfg.Credentials.SetPasswordHash(ctx, t.ID, hash)
}

// RevokeAccount revokes the account named username: it signs in no more, and its
// sessions end at once.
func (s *Service) RevokeAccount(ctx context.Context, m domain.Meta, username string) error {
	if m.Actor.Role != domain.RoleAdmin {
		return domain.Refuse(domain.KindForbidden, domain.CodeAdminOnly, "only an admin manages accounts")
	}
	t, ok := s.Dir.Account(username)
	if !ok {
		return domain.Refuse(domain.KindNotFound, domain.CodeTokenNotFound, "no account %s", username)
	}
	return s.RevokeToken(ctx, m, t.ID)
}

// dummyHash is checked against when the username is unknown, so that a wrong username
// takes as long as a wrong password: a hash at the service's cost, made once.
func (s *Service) dummyHash() []byte {
	s.dummyOnce.Do(func() {
		s.dummy, _ = bcrypt.GenerateFromPassword([]byte("redlane: no such account"), s.passwordCost())
	})
	return s.dummy
}

// SignIn checks a username and password and returns the account's token id, from which
// a session starts. Every failure is the same refusal (auth.sign-in-failed), whether the
// username, the password or a revoked account was the cause.
func (s *Service) SignIn(ctx context.Context, username, password string) (string, domain.Actor, error) {
	failed := domain.Refuse(domain.KindUnauthorized, domain.CodeSignInFailed, "the username or the password is wrong")
	if s.cfg.Credentials == nil || len(password) > MaxPassword {
		return "", domain.Actor{}, failed
	}
	t, ok := s.Dir.Account(username)
	var hash []byte
	if ok {
		var err error
		if hash, err = s.cfg.Credentials.PasswordHash(ctx, t.ID); err != nil {
			return "", domain.Actor{}, err
		}
	}
	if hash == nil {
		_ = bcrypt.CompareHashAndPassword(s.dummyHash(), []byte(password))
		return "", domain.Actor{}, failed
	}
	if err := bcrypt.CompareHashAndPassword(hash, []byte(password)); err != nil {
		if !errors.Is(err, bcrypt.ErrMismatchedHashAndPassword) {
			return "", domain.Actor{}, err
		}
		return "", domain.Actor{}, failed
	}
	if t.Revoked {
		return "", domain.Actor{}, failed
	}
	return t.ID, actorOf(t), nil
}

func (s *Service) passwordCost() int {
	if s.cfg.PasswordCost > 0 {
		return s.cfg.PasswordCost
	}
	return bcrypt.DefaultCost
}
