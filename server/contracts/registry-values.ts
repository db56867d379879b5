/**
 * The registry's enumerations as plain values (re-exported by registry.ts): the import's row checks
 * need them without loading the TypeBox schemas, whose ~400 modules cost the CLI about half a second
 * of start-up under tsx.
 */
export const BUILDING_USES = ['residential', 'commercial', 'mixed', 'public', 'industrial', 'other'] as const;
export const TENURES = ['owned', 'rented', 'vacant', 'other'] as const;
export const RELATIONS = ['head', 'spouse', 'child', 'parent', 'grandchild', 'child_in_law', 'sibling', 'other'] as const;
export const REGISTRATIONS = ['registered', 'floating', 'foreign'] as const;
export const ORGANISATION_KINDS = ['shop', 'school', 'hospital', 'agency', 'other'] as const;
