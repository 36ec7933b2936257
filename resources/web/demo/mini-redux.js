// SPDX-License-Identifier: AGPL-3.0-or-later
// A minimal Redux (createStore, combineReducers, applyMiddleware) so that the demo and the tests
// run without a build step or a download. Same contract as Redux 4 for what the adapter uses:
// middleware gets {getState, dispatch}, dispatch runs reducer then subscribers, and dispatching
// while middleware is being built is refused.

export function createStore(reducer, preloadedState, enhancer) {
  if (typeof preloadedState === 'function' && enhancer === undefined) {
    enhancer = preloadedState;
    preloadedState = undefined;
  }
  if (enhancer) return enhancer(createStore)(reducer, preloadedState);
  let state = preloadedState;
  let listeners = [];
  let dispatching = false;
  const getState = () => state;
  const dispatch = (action) => {
    if (dispatching) throw new Error('Reducers may not dispatch actions.');
    dispatching = true;
    try {
      state = reducer(state, action);
    } finally {
      dispatching = false;
    }
    for (const l of listeners.slice()) l();
    return action;
  };
  const subscribe = (l) => {
    listeners.push(l);
    return () => { listeners = listeners.filter((x) => x !== l); };
  };
  dispatch({ type: '@@mini-redux/INIT' });
  return { getState, dispatch, subscribe, replaceReducer: (r) => { reducer = r; } };
}

export function combineReducers(reducers) {
  const keys = Object.keys(reducers);
  return (state = {}, action) => {
    let changed = false;
    const next = {};
    for (const k of keys) {
      next[k] = reducers[k](state[k], action);
      if (next[k] !== state[k]) changed = true;
    }
    return changed ? next : state;
  };
}

export function applyMiddleware(...middlewares) {
  return (create) => (reducer, preloaded) => {
    const store = create(reducer, preloaded);
    let dispatch = () => { throw new Error('Dispatching while constructing your middleware is not allowed.'); };
    const api = { getState: store.getState, dispatch: (a) => dispatch(a) };
    const chain = middlewares.map((m) => m(api));
    dispatch = chain.reduceRight((next, m) => m(next), store.dispatch);
    return { ...store, dispatch };
  };
}
