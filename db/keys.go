package db

import "studio/models"

// keyID reads a change's key as one id.
func keyID(key any) (models.ID, error) {
	switch k := key.(type) {
	case models.ID:
		return k, nil
	case string:
		id, err := models.ParseID(k)
		if err != nil {
			return id, badField("key", "%v", err)
		}
		return id, nil
	}
	return models.ID{}, badField("key", "must be an id (32 hex characters), not %s", kindOf(key))
}

// newKeyID reads the key of something being created: an id as keyID
// reads it, and not one in the jobs' range (models.JobID), so that no
// entity a client names can share an id with a job.
func newKeyID(key any) (models.ID, error) {
	id, err := keyID(key)
	if err != nil {
		return id, err
	}
	if _, job := models.RiverJobID(id); job {
		return id, badField("key", "ids that begin with 16 zeros are kept for jobs; choose another id")
	}
	return id, nil
}

// keyPair reads a composite key: a list of two ids.
func keyPair(key any) (models.ID, models.ID, error) {
	var parts []any
	switch k := key.(type) {
	case []models.ID:
		if len(k) == 2 {
			return k[0], k[1], nil
		}
	case []any:
		parts = k
	}
	if len(parts) != 2 {
		return models.ID{}, models.ID{}, badField("key", "must be a list of two ids")
	}
	first, err := keyID(parts[0])
	if err != nil {
		return first, first, err
	}
	second, err := keyID(parts[1])
	return first, second, err
}

// idValue reads an id from a JSON field.
func idValue(field string, v any) (models.ID, error) {
	id, err := keyID(v)
	if err != nil {
		return id, badField(field, "must be an id (32 hex characters)")
	}
	return id, nil
}

func pairKey(a, b models.ID) []models.ID { return []models.ID{a, b} }
