package embedsso

import (
	"context"
	"slices"
	"sync"
)

// MemoryAPIKeyStore is an [APIKeyStore] held in memory, safe for concurrent
// use. The zero value is empty and ready to use.
type MemoryAPIKeyStore struct {
	mu   sync.RWMutex
	keys map[string]APIKey
}

// CreateAPIKey implements [APIKeyStore].
func (s *MemoryAPIKeyStore) CreateAPIKey(_ context.Context, k APIKey) error {
	k.OrgIDs = slices.Clone(k.OrgIDs)
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.keys[k.ID]; ok {
		return ErrAPIKeyExists
	}
	if s.keys == nil {
		s.keys = make(map[string]APIKey)
	}
	s.keys[k.ID] = k
	return nil
}

// FindAPIKey implements [APIKeyStore].
func (s *MemoryAPIKeyStore) FindAPIKey(_ context.Context, id string) (APIKey, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	k, ok := s.keys[id]
	if !ok {
		return APIKey{}, ErrAPIKeyNotFound
	}
	k.OrgIDs = slices.Clone(k.OrgIDs)
	return k, nil
}

// RevokeAPIKey implements [APIKeyStore].
func (s *MemoryAPIKeyStore) RevokeAPIKey(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.keys[id]; !ok {
		return ErrAPIKeyNotFound
	}
	delete(s.keys, id)
	return nil
}
