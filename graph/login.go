package graph

import (
	"context"

	"studio/models"
)

type clientAddrKey struct{}

// WithClientAddr records the client's address ("host:port"), by which the
// login throttle counts failures.
func WithClientAddr(ctx context.Context, addr string) context.Context {
	return context.WithValue(ctx, clientAddrKey{}, addr)
}

// clientAddr is the address WithClientAddr recorded; "" when none was.
func clientAddr(ctx context.Context) string {
	a, _ := ctx.Value(clientAddrKey{}).(string)
	return a
}

// login checks an email and password, throttled by email and client
// address, and gives the user a new token.
func (r *mutationResolver) login(ctx context.Context, email, password string) (*models.AuthPayload, error) {
	u, err := r.DB.Login(ctx, email, password, clientAddr(ctx))
	if err != nil {
		return nil, err
	}
	token, err := r.DB.CreateToken(ctx, u.ID, "login")
	if err != nil {
		return nil, err
	}
	return &models.AuthPayload{Token: token, User: u}, nil
}

// logout revokes the token the request carried.
func (r *mutationResolver) logout(ctx context.Context) (*bool, error) {
	c := CallerFrom(ctx)
	if c.User == nil || c.Token == "" {
		return nil, models.Errorf(models.CodeUnauthenticated, "log in first: there is no token to revoke")
	}
	return revoked(r.DB.RevokeToken(ctx, c.User, c.Token))
}

// revokeToken revokes one of the caller's tokens.
func (r *mutationResolver) revokeToken(ctx context.Context, token string) (*bool, error) {
	u, err := requireUser(ctx)
	if err != nil {
		return nil, err
	}
	return revoked(r.DB.RevokeToken(ctx, u, token))
}

// revoked is a revocation's result: true, or null with the error.
func revoked(err error) (*bool, error) {
	if err != nil {
		return nil, err
	}
	ok := true
	return &ok, nil
}
