package memstore

import (
	"slices"
	"sync"

	"github.com/embedsso/embedsso"
)

// apiKeyStore is the API keys of a [Store]. The zero value is empty and
// ready to use.
type apiKeyStore struct {
	mu   sync.RWMutex
	keys map[string]embedsso.APIKey
}

func (s *apiKeyStore) create(k embedsso.APIKey) error {
	k.OrgIDs = slices.Clone(k.OrgIDs)
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.keys[k.ID]; ok {
		return embedsso.ErrAPIKeyExists
	}
	if s.keys == nil {
		s.keys = make(map[string]embedsso.APIKey)
	}
	s.keys[k.ID] = k
	return nil
}

func (s *apiKeyStore) find(id string) (embedsso.APIKey, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	k, ok := s.keys[id]
	if !ok {
		return embedsso.APIKey{}, embedsso.ErrAPIKeyNotFound
	}
	k.OrgIDs = slices.Clone(k.OrgIDs)
	return k, nil
}

func (s *apiKeyStore) revoke(id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.keys[id]; !ok {
		return embedsso.ErrAPIKeyNotFound
	}
	delete(s.keys, id)
	return nil
}
