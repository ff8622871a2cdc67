package memstore

import (
	"slices"
	"sync"

	"github.com/embedsso/embedsso/orgapi"
)

// apiKeyStore is the API keys of a [Store]. The zero value is empty and
// ready to use.
type apiKeyStore struct {
	mu   sync.RWMutex
	keys map[string]orgapi.APIKey
}

func (s *apiKeyStore) create(k orgapi.APIKey) error {
	k.OrgIDs = slices.Clone(k.OrgIDs)
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.keys[k.ID]; ok {
		return orgapi.ErrAPIKeyExists
	}
	if s.keys == nil {
		s.keys = make(map[string]orgapi.APIKey)
	}
	s.keys[k.ID] = k
	return nil
}

func (s *apiKeyStore) find(id string) (orgapi.APIKey, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	k, ok := s.keys[id]
	if !ok {
		return orgapi.APIKey{}, orgapi.ErrAPIKeyNotFound
	}
	k.OrgIDs = slices.Clone(k.OrgIDs)
	return k, nil
}

func (s *apiKeyStore) revoke(id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.keys[id]; !ok {
		return orgapi.ErrAPIKeyNotFound
	}
	delete(s.keys, id)
	return nil
}
