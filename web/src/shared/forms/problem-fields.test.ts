import { ApiError } from "@/shared/api/client";
import { problemFields } from "./problem-fields";

const FIELDS = ["name", "base_url", "secrets", "max_active_runs"] as const;

describe("placing a problem's messages next to the fields", () => {
  it("puts each error on the field its location starts with, and cleans pydantic's wording", () => {
    const error = new ApiError(422, "base_url: …", [
      { location: "base_url", message: "Value error, base_url must be an absolute http:// or https:// URL" },
      { location: "secrets.api_key", message: "String should have at most 10000 characters" },
      { location: "secrets.other", message: "too long" },
    ]);
    expect(problemFields(error, FIELDS)).toEqual({
      fields: {
        base_url: "base_url must be an absolute http:// or https:// URL",
        secrets: "api_key: String should have at most 10000 characters; other: too long",
      },
      form: null,
    });
  });

  it("keeps what names no field of the form as the form's message", () => {
    const error = new ApiError(422, "x", [
      { location: "name", message: "String should match pattern" },
      { location: "surprise", message: "Extra inputs are not permitted" },
    ]);
    expect(problemFields(error, FIELDS)).toEqual({
      fields: { name: "String should match pattern" },
      form: "surprise: Extra inputs are not permitted",
    });
  });

  it("maps an API field to a form field through an alias", () => {
    const error = new ApiError(422, "x", [{ location: "suite", message: "suite 'x' does not exist" }]);
    expect(problemFields(error, ["suite_name"], { suite: "suite_name" }).fields).toEqual({
      suite_name: "suite 'x' does not exist",
    });
  });

  it("shows a problem without errors (a conflict, a refusal) as the form's message", () => {
    const conflict = new ApiError(409, "environment 'staging' already exists in project 'shop'");
    expect(problemFields(conflict, FIELDS)).toEqual({
      fields: {},
      form: "environment 'staging' already exists in project 'shop'",
    });
    expect(problemFields(new TypeError("Failed to fetch"), FIELDS)).toEqual({ fields: {}, form: "Failed to fetch" });
  });
});
