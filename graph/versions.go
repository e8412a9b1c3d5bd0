package graph

import (
	"context"

	"studio/models"
)

// channelVersions lists a channel's draft and versions for its members and
// admins; everyone else gets none, since each carries a secret token, as
// primaryToken is kept from them.
func channelVersions(ctx context.Context, ch *models.Channel) ([]*models.ChannelVersion, error) {
	if ok, err := memberAccess(ctx, ch.ID); !ok || err != nil {
		return []*models.ChannelVersion{}, err
	}
	vs, err := load(ctx, loadersFrom(ctx).Versions, ch.ID)
	if vs == nil {
		vs = []*models.ChannelVersion{}
	}
	return vs, err
}

// versionNumber is a version's number, nil for the draft (stored as 0,
// Kolibri's number for a draft).
func versionNumber(v *models.ChannelVersion) *int {
	if v.Version == 0 {
		return nil
	}
	n := v.Version
	return &n
}

// versionToken is a version's token as users see it (xxxxx-xxxxx).
func versionToken(v *models.ChannelVersion) *string {
	if v.SecretToken == nil {
		return nil
	}
	t := models.FormatToken(*v.SecretToken)
	return &t
}
