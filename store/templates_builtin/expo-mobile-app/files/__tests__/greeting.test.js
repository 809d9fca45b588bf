import { greeting } from "../src/greeting";

test("greets by the time of day", () => {
  expect(greeting("Demo", 9)).toBe("Good morning from Demo");
  expect(greeting("Demo", 13)).toBe("Good afternoon from Demo");
  expect(greeting("Demo", 21)).toBe("Good evening from Demo");
});
