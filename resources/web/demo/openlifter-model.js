// SPDX-License-Identifier: AGPL-3.0-or-later
// An OpenLifter-shaped Redux model for the demo page and the tests: the same state shape, action
// types and reducer semantics as OpenLifter's store, written from the behaviour described in the
// project's research note (OpenLifter is AGPL; none of its code is used here). It includes the
// behaviours the live adapter has to cope with:
// - NEW_REGISTRATION takes `nextEntryId` and copies day/platform/flight from the last entry;
// - DELETE_REGISTRATION rebuilds `lookup` (indexes shift);
// - ENTER_ATTEMPT changes the existing entry object in place (as OpenLifter's reducer does);
// - SET_IN_KG resets the plates and the three bar weights;
// - MARK_LIFT clears the lifting overrides;
// - OVERWRITE_STORE (load from file, new meet) replaces every slice.

import { combineReducers } from './mini-redux.js';

export const STATE_VERSION = '0';
export const MAX_ATTEMPTS = 5;
const LBS_PER_KG = 2.20462262;
export const lbs2kg = (lbs) => lbs / LBS_PER_KG;

const KG_PLATES = [
  [50, 0, '#6B6B6B'], [25, 8, '#C62828'], [20, 4, '#1565C0'], [15, 2, '#F9A825'], [10, 2, '#2E7D32'],
  [5, 2, '#ECEFF1'], [2.5, 2, '#37474F'], [2, 0, '#1565C0'], [1.5, 0, '#F9A825'], [1.25, 2, '#ECEFF1'],
  [1, 0, '#2E7D32'], [0.75, 0, '#ECEFF1'], [0.5, 1, '#C62828'], [0.25, 1, '#1565C0'],
].map(([weightKg, pairCount, color]) => ({ weightKg, pairCount, color }));

const LBS_PLATES = [
  [100, 0, '#6B6B6B'], [55, 0, '#C62828'], [45, 8, '#1565C0'], [35, 2, '#F9A825'], [25, 2, '#2E7D32'],
  [10, 2, '#ECEFF1'], [5, 2, '#37474F'], [2.5, 2, '#ECEFF1'], [1.25, 1, '#C62828'],
].map(([lbs, pairCount, color]) => ({ weightKg: lbs2kg(lbs), pairCount, color }));

const today = () => new Date().toISOString().slice(0, 10);

export function defaultMeet() {
  return {
    name: '', country: '', state: '', city: '', federation: '', date: today(), lengthDays: 1,
    platformsOnDays: [1], ageCoefficients: 'FosterMcCulloch', divisions: [], weightClassesKgMen: [],
    weightClassesKgWomen: [], weightClassesKgMx: [], formula: 'Wilks', combineSleevesAndWraps: false,
    combineSingleAndMulti: false, allow4thAttempts: true, inKg: true, squatBarAndCollarsWeightKg: 25,
    benchBarAndCollarsWeightKg: 25, deadliftBarAndCollarsWeightKg: 25, plates: KG_PLATES.map((p) => ({ ...p })),
    showAlternateUnits: true,
  };
}

/** A new lifter with every member OpenLifter's entries have (no `instagram`: it is optional). */
export function newDefaultEntry(id) {
  const five = () => new Array(MAX_ATTEMPTS).fill(0);
  return {
    id, day: 1, platform: 1, flight: 'A', name: '', sex: 'M', birthDate: '', age: 0, country: '', state: '',
    intendedWeightClassKg: '', equipment: 'Sleeves', divisions: [], events: [], lot: 0, memberId: '', paid: false,
    guest: false, team: '', notes: '', bodyweightKg: 0, squatRackInfo: '', benchRackInfo: '',
    squatKg: five(), benchKg: five(), deadliftKg: five(), squatStatus: five(), benchStatus: five(),
    deadliftStatus: five(),
  };
}

const defaultRegistration = () => ({ nextEntryId: 5000, entries: [], lookup: {} });
const defaultLifting = () => ({
  day: 1, platform: 1, flight: 'A', lift: 'S', overrideAttempt: null, overrideEntryId: null, columnDivisionWidthPx: 90,
});

const liftField = (lift, suffix) => ({ S: 'squat', B: 'bench', D: 'deadlift' }[lift] + suffix);
const lookupOf = (entries) => Object.fromEntries(entries.map((e, i) => [String(e.id), i]));

function versionsReducer(state = { stateVersion: STATE_VERSION, releaseVersion: 'demo' }, action) {
  return action.type === 'OVERWRITE_STORE' ? action.store.versions ?? state : state;
}

function languageReducer(state = 'en', action) {
  if (action.type === 'CHANGE_LANGUAGE') return action.language;
  if (action.type === 'OVERWRITE_STORE') return action.store.language;
  return state;
}

function meetReducer(state = defaultMeet(), action) {
  switch (action.type) {
    case 'OVERWRITE_STORE': return action.store.meet;
    case 'UPDATE_MEET': return { ...state, ...action.changes };
    case 'SET_MEET_NAME': return { ...state, name: action.name };
    case 'SET_IN_KG': {
      const bar = action.inKg ? 25 : lbs2kg(45);
      return {
        ...state, inKg: action.inKg, plates: (action.inKg ? KG_PLATES : LBS_PLATES).map((p) => ({ ...p })),
        squatBarAndCollarsWeightKg: bar, benchBarAndCollarsWeightKg: bar, deadliftBarAndCollarsWeightKg: bar,
      };
    }
    case 'SET_PLATE_CONFIG': {
      // Found by exact float match on the weight, as OpenLifter does.
      const plates = state.plates.map((p) => (p.weightKg === action.weightKg
        ? { weightKg: p.weightKg, pairCount: action.pairCount, color: action.color } : p));
      return { ...state, plates };
    }
    case 'SET_LENGTH_DAYS': {
      const platformsOnDays = state.platformsOnDays.slice();
      while (platformsOnDays.length < action.length) platformsOnDays.push(1);
      return { ...state, lengthDays: action.length, platformsOnDays };
    }
    case 'SET_PLATFORM_COUNT': {
      const platformsOnDays = state.platformsOnDays.slice();
      platformsOnDays[action.day - 1] = action.count;
      return { ...state, platformsOnDays };
    }
    default: return state;
  }
}

function registrationReducer(state = defaultRegistration(), action) {
  switch (action.type) {
    case 'OVERWRITE_STORE': return action.store.registration;
    case 'NEW_REGISTRATION': {
      const id = state.nextEntryId;
      const entry = newDefaultEntry(id);
      const last = state.entries[state.entries.length - 1];
      if (last) Object.assign(entry, { day: last.day, platform: last.platform, flight: last.flight });
      Object.assign(entry, action.overwriteDefaults ?? {}, { id });
      const entries = [...state.entries, entry];
      return { nextEntryId: id + 1, entries, lookup: { ...state.lookup, [String(id)]: entries.length - 1 } };
    }
    case 'DELETE_REGISTRATION': {
      const entries = state.entries.filter((e) => e.id !== action.entryId);
      return { ...state, entries, lookup: lookupOf(entries) };
    }
    case 'UPDATE_REGISTRATION': {
      const i = state.lookup[String(action.entryId)];
      if (i === undefined) return state;
      const entries = state.entries.slice();
      entries[i] = { ...entries[i], ...action.changes };
      return { ...state, entries };
    }
    case 'ENTER_ATTEMPT': {
      const i = state.lookup[String(action.entryId)];
      if (i === undefined) return state;
      const old = state.entries[i];
      const field = liftField(action.lift, 'Kg');
      const weights = old[field].slice();
      weights[action.attemptOneIndexed - 1] = action.weightKg;
      Object.assign(old, { [field]: weights }); // in place, like OpenLifter's reducer
      const entries = state.entries.slice();
      entries[i] = old;
      return { ...state, entries };
    }
    case 'MARK_LIFT': {
      const i = state.lookup[String(action.entryId)];
      if (i === undefined) return state;
      const field = liftField(action.lift, 'Status');
      const status = state.entries[i][field].slice();
      status[action.attemptOneIndexed - 1] = action.success ? 1 : -1;
      const entries = state.entries.slice();
      entries[i] = { ...entries[i], [field]: status };
      return { ...state, entries };
    }
    case 'MERGE_PLATFORM': {
      const kept = state.entries.filter((e) => !(e.day === action.day && e.platform === action.platform));
      let nextEntryId = state.nextEntryId;
      const merged = action.platformEntries.map((e) => ({ ...e, id: nextEntryId++ }));
      const entries = [...kept, ...merged];
      return { nextEntryId, entries, lookup: lookupOf(entries) };
    }
    case 'ASSIGN_LOT_NUMBERS': {
      const entries = state.entries.map((e, i) => ({ ...e, lot: action.lotNumbers[i] }));
      return { ...state, entries };
    }
    default: return state;
  }
}

function liftingReducer(state = defaultLifting(), action) {
  switch (action.type) {
    case 'OVERWRITE_STORE': return action.store.lifting;
    case 'SET_LIFTING_GROUP':
      return {
        ...state, day: action.day, platform: action.platform, flight: action.flight, lift: action.lift,
        overrideAttempt: null, overrideEntryId: null,
      };
    case 'OVERRIDE_ATTEMPT': return { ...state, overrideAttempt: action.attempt };
    case 'OVERRIDE_ENTRY_ID': return { ...state, overrideEntryId: action.entryId };
    case 'MARK_LIFT': return { ...state, overrideAttempt: null, overrideEntryId: null };
    case 'SET_TABLE_INFO': return { ...state, columnDivisionWidthPx: action.changes.columnDivisionWidthPx
      ?? state.columnDivisionWidthPx };
    default: return state;
  }
}

/** OpenLifter's root reducer shape: combineReducers({versions, language, meet, registration, lifting}). */
export const rootReducer = combineReducers({
  versions: versionsReducer,
  language: languageReducer,
  meet: meetReducer,
  registration: registrationReducer,
  lifting: liftingReducer,
});

/** Action creators with OpenLifter's action types and payloads. */
export const actions = {
  overwriteStore: (store) => ({ type: 'OVERWRITE_STORE', store }),
  changeLanguage: (language) => ({ type: 'CHANGE_LANGUAGE', language }),
  updateMeet: (changes) => ({ type: 'UPDATE_MEET', changes }),
  setInKg: (inKg) => ({ type: 'SET_IN_KG', inKg }),
  setPlateConfig: (weightKg, pairCount, color) => ({ type: 'SET_PLATE_CONFIG', weightKg, pairCount, color }),
  setLengthDays: (length) => ({ type: 'SET_LENGTH_DAYS', length }),
  setPlatformCount: (day, count) => ({ type: 'SET_PLATFORM_COUNT', day, count }),
  newRegistration: (overwriteDefaults = {}) => ({ type: 'NEW_REGISTRATION', overwriteDefaults }),
  deleteRegistration: (entryId) => ({ type: 'DELETE_REGISTRATION', entryId }),
  updateRegistration: (entryId, changes) => ({ type: 'UPDATE_REGISTRATION', entryId, changes }),
  enterAttempt: (entryId, lift, attemptOneIndexed, weightKg) => ({
    type: 'ENTER_ATTEMPT', entryId, lift, attemptOneIndexed, weightKg,
  }),
  markLift: (entryId, lift, attemptOneIndexed, success) => ({
    type: 'MARK_LIFT', entryId, lift, attemptOneIndexed, success,
  }),
  mergePlatform: (day, platform, platformEntries) => ({ type: 'MERGE_PLATFORM', day, platform, platformEntries }),
  assignLotNumbers: (lotNumbers) => ({ type: 'ASSIGN_LOT_NUMBERS', lotNumbers }),
  setLiftingGroup: (day, platform, flight, lift) => ({ type: 'SET_LIFTING_GROUP', day, platform, flight, lift }),
  overrideAttempt: (attempt) => ({ type: 'OVERRIDE_ATTEMPT', attempt }),
  overrideEntryId: (entryId) => ({ type: 'OVERRIDE_ENTRY_ID', entryId }),
  setTableInfo: (changes) => ({ type: 'SET_TABLE_INFO', changes }),
};

/** A fresh state as New Meet makes it (for OVERWRITE_STORE), keeping the language. */
export function newMeetState(language = 'en') {
  return { ...rootReducer(undefined, { type: '@@demo/NEW' }), language };
}
