import { describe } from 'vitest';
import { runCases } from '../lib.js';
import { cases } from './cases.js';
import { evolveSpending } from './exercise.js';

describe('exercise 02: a read model built from account-events', () => runCases(cases, evolveSpending));
