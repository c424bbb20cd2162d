package locks

// field is one optional field of a Command, for the per-kind field rules.
type field uint16

const (
	fLeaseID field = 1 << iota
	fTTL
	fName
	fOwner
	fValue
	fToken
	fWait
	fElection
	fCheckpoints
	fCreator
	fAccessor
	fACLName
	fACLRules
	fSecretHash
)

// fieldsOf lists the fields kind k may carry; every other must be zero.
func fieldsOf(k Kind) field {
	switch k {
	case KindCreateLease:
		return fTTL | fCreator
	case KindRevokeLease, KindExpireLease:
		return fLeaseID
	case KindCheckpointLeases:
		return fCheckpoints
	case KindAcquire:
		return fLeaseID | fTTL | fName | fOwner | fValue | fWait | fElection | fCreator
	case KindRelease:
		return fName | fToken
	case KindCancelWait:
		return fLeaseID | fName | fElection
	case KindProclaim:
		return fName | fToken | fValue
	case KindResign:
		return fName | fToken
	case KindCreateACLToken:
		return fTTL | fACLName | fACLRules | fSecretHash
	case KindDeleteACLToken:
		return fAccessor
	}
	return 0
}

// present returns the set of fields of c that are not zero.
func present(c *Command) field {
	var f field
	set := func(cond bool, bit field) {
		if cond {
			f |= bit
		}
	}
	set(c.LeaseID != 0, fLeaseID)
	set(c.TTL != 0, fTTL)
	set(c.Name != "", fName)
	set(c.Owner != "", fOwner)
	set(c.Value != "", fValue)
	set(c.Token != 0, fToken)
	set(c.Wait, fWait)
	set(c.Election, fElection)
	set(len(c.Checkpoints) != 0, fCheckpoints)
	set(c.Creator != 0, fCreator)
	set(c.Accessor != 0, fAccessor)
	set(c.ACLName != "", fACLName)
	set(len(c.ACLRules) != 0, fACLRules)
	set(len(c.SecretHash) != 0, fSecretHash)
	return f
}

// fieldName names the lowest field of f, as the HTTP API spells it.
func fieldName(f field) string {
	names := [...]string{"lease_id", "ttl", "name", "owner", "value", "token", "wait", "election", "checkpoints",
		"creator", "accessor", "acl_name", "rules", "secret_hash"}
	for i, n := range names {
		if f&(1<<i) != 0 {
			return n
		}
	}
	return "unknown field"
}

// ValidateCommand checks c against the limits and the field rules of its
// kind, without looking at the table. The server calls it before proposing
// and Apply calls it again on every entry; the two must agree, so a command
// that passes here is refused at apply only for the table's state.
func ValidateCommand(c Command) error {
	if c.Kind == 0 || c.Kind >= kindEnd {
		return errorf(ErrInvalidArgument, "unknown command kind %d", c.Kind)
	}
	if n := len(c.RequestID); n > RequestIDBytesMax {
		return errorf(ErrInvalidArgument, "request id is %d bytes, max %d", n, RequestIDBytesMax)
	}
	if c.Time < 0 {
		return errorf(ErrInvalidArgument, "time is %d, min 0", c.Time)
	}
	allowed := fieldsOf(c.Kind)
	if extra := present(&c) &^ allowed; extra != 0 {
		return errorf(ErrInvalidArgument, "%s does not take %s", c.Kind, fieldName(extra))
	}
	if allowed&fTTL != 0 && c.TTL != 0 && c.Kind != KindCreateACLToken {
		if err := validateTTL(c.TTL); err != nil {
			return err
		}
	}
	if allowed&fName != 0 {
		if err := ValidateName(c.Name); err != nil {
			return err
		}
	}
	if n := len(c.Owner); n > OwnerBytesMax {
		return errorf(ErrInvalidArgument, "owner is %d bytes, max %d", n, OwnerBytesMax)
	}
	if n := len(c.Value); n > ValueBytesMax {
		return errorf(ErrInvalidArgument, "value is %d bytes, max %d", n, ValueBytesMax)
	}
	return validateKind(&c)
}

// validateKind checks the rules particular to one kind.
func validateKind(c *Command) error {
	switch c.Kind {
	case KindRevokeLease, KindExpireLease:
		if c.LeaseID == 0 {
			return errorf(ErrInvalidArgument, "%s needs a lease_id", c.Kind)
		}
	case KindAcquire:
		if c.LeaseID != 0 && c.TTL != 0 {
			return errorf(ErrInvalidArgument, "acquire takes a ttl only without a lease_id")
		}
		if c.Value != "" && !c.Election {
			return errorf(ErrInvalidArgument, "acquire of a lock takes no value; campaign for an election instead")
		}
		if c.LeaseID != 0 && c.Creator != 0 {
			return errorf(ErrInvalidArgument, "acquire takes a creator only without a lease_id")
		}
	case KindRelease, KindProclaim, KindResign:
		if c.Token == 0 {
			return errorf(ErrInvalidArgument, "%s needs a token", c.Kind)
		}
	case KindCancelWait:
		if c.LeaseID == 0 {
			return errorf(ErrInvalidArgument, "cancel_wait needs a lease_id")
		}
	case KindCheckpointLeases:
		return validateCheckpoints(c.Checkpoints)
	case KindCreateACLToken:
		return validateACLToken(c)
	case KindDeleteACLToken:
		if c.Accessor == 0 {
			return errorf(ErrInvalidArgument, "delete_acl_token needs an accessor")
		}
	}
	return nil
}

func validateCheckpoints(cps []Checkpoint) error {
	if n := len(cps); n > CheckpointsPerCommandMax {
		return errorf(ErrTooLarge, "checkpoint_leases carries %d leases, max %d", n, CheckpointsPerCommandMax)
	}
	var prev LeaseID
	for i, cp := range cps {
		if cp.LeaseID <= prev {
			return errorf(ErrInvalidArgument, "checkpoint %d: lease %d not above lease %d", i, cp.LeaseID, prev)
		}
		prev = cp.LeaseID
		if cp.Remaining < 0 || cp.Remaining > TTLMax {
			return errorf(ErrInvalidArgument, "checkpoint %d: remaining %s not in [0s, %s]", i, cp.Remaining, Duration(TTLMax))
		}
	}
	return nil
}

func validateTTL(ttl Duration) error {
	if ttl < TTLMin {
		return errorf(ErrInvalidArgument, "ttl is %s, min %s", ttl, Duration(TTLMin))
	}
	if ttl > TTLMax {
		return errorf(ErrInvalidArgument, "ttl is %s, max %s", ttl, Duration(TTLMax))
	}
	return nil
}

// ValidateName checks a lock or election name: 1..NameBytesMax bytes of
// [A-Za-z0-9._:/-].
func ValidateName(name string) error {
	if name == "" {
		return errorf(ErrInvalidArgument, "name is empty, min 1 byte")
	}
	if n := len(name); n > NameBytesMax {
		return errorf(ErrInvalidArgument, "name is %d bytes, max %d", n, NameBytesMax)
	}
	for i := 0; i < len(name); i++ {
		if !nameByte(name[i]) {
			return errorf(ErrInvalidArgument, "name has byte %q at %d; allowed are [A-Za-z0-9._:/-]", name[i], i)
		}
	}
	return nil
}

func nameByte(b byte) bool {
	switch {
	case 'a' <= b && b <= 'z', 'A' <= b && b <= 'Z', '0' <= b && b <= '9':
		return true
	}
	switch b {
	case '.', '_', ':', '/', '-':
		return true
	}
	return false
}
