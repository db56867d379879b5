-- Event categories get an English name beside the Chinese one, so the web app's English view names
-- them in English (the dispatcher's file form, the event list and detail, the analysis filter). Optional:
-- a taxonomy published without English names shows the Chinese name in both languages.
ALTER TABLE event_categories ADD COLUMN name_en text CHECK (length(btrim(name_en)) > 0);

UPDATE event_categories c SET name_en = v.name_en
FROM (VALUES
  ('dispute', 'Disputes'),
  ('security_hazard', 'Public security hazards'),
  ('safety', 'Safety hazards'),
  ('environment', 'Environment and sanitation'),
  ('facility', 'Public facilities'),
  ('urgent_need', 'Urgent needs of people in difficulty'),
  ('other', 'Other'),
  ('dispute.neighbour', 'Neighbour dispute'),
  ('dispute.family', 'Marriage and family dispute'),
  ('dispute.property', 'Property management dispute'),
  ('dispute.labour', 'Labour dispute'),
  ('dispute.land', 'Land and housing dispute'),
  ('dispute.other', 'Other dispute'),
  ('security_hazard.public_order', 'Public order hazard'),
  ('security_hazard.suspicious', 'Suspicious persons or premises'),
  ('security_hazard.traffic', 'Traffic safety hazard'),
  ('safety.fire', 'Fire hazard'),
  ('safety.gas', 'Gas hazard'),
  ('safety.building', 'Unsafe building'),
  ('safety.other', 'Other safety hazard'),
  ('environment.garbage', 'Dumped rubbish'),
  ('environment.street_cleaning', 'Street cleaning'),
  ('environment.graffiti', 'Graffiti and fly-posting'),
  ('environment.sewage', 'Sewage discharge'),
  ('environment.noise', 'Noise nuisance'),
  ('environment.abandoned_vehicle', 'Abandoned vehicle'),
  ('environment.greenery', 'Parks and greenery'),
  ('facility.manhole', 'Manhole cover'),
  ('facility.street_light', 'Street light'),
  ('facility.road', 'Road and pavement'),
  ('facility.sign', 'Signs'),
  ('facility.litter_bin', 'Litter bin'),
  ('facility.drain', 'Drainage'),
  ('facility.other', 'Other street furniture'),
  ('urgent_need.livelihood', 'Urgent help with living needs'),
  ('urgent_need.care', 'Elderly living alone or others without care'),
  ('other.other', 'Other matters')
) AS v (code, name_en)
WHERE c.taxonomy_version = 1 AND c.code = v.code;
