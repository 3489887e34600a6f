<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>
<qgis version="3.22.16-Białowieża" styleCategories="LayerConfiguration|Fields|Forms|MapTips" readOnly="0">
  <flags>
    <Identifiable>1</Identifiable>
    <Removable>1</Removable>
    <Searchable>1</Searchable>
    <Private>0</Private>
  </flags>
  <fieldConfiguration>
    <field name="score" configurationFlags="None">
      <editWidget type="Range">
        <config>
          <Option type="Map">
            <Option value="true" type="bool" name="AllowNull"/>
            <Option value="1" type="double" name="Max"/>
            <Option value="0" type="double" name="Min"/>
            <Option value="3" type="int" name="Precision"/>
            <Option value="0.01" type="double" name="Step"/>
            <Option value="SpinBox" type="QString" name="Style"/>
          </Option>
        </config>
      </editWidget>
    </field>
    <field name="patch_score" configurationFlags="None">
      <editWidget type="Range">
        <config>
          <Option type="Map">
            <Option value="true" type="bool" name="AllowNull"/>
            <Option value="1" type="double" name="Max"/>
            <Option value="0" type="double" name="Min"/>
            <Option value="3" type="int" name="Precision"/>
            <Option value="0.01" type="double" name="Step"/>
            <Option value="SpinBox" type="QString" name="Style"/>
          </Option>
        </config>
      </editWidget>
    </field>
    <field name="label" configurationFlags="None">
      <editWidget type="">
        <config>
          <Option/>
        </config>
      </editWidget>
    </field>
    <field name="source" configurationFlags="None">
      <editWidget type="">
        <config>
          <Option/>
        </config>
      </editWidget>
    </field>
    <field name="length_m" configurationFlags="None">
      <editWidget type="Range">
        <config>
          <Option type="Map">
            <Option value="true" type="bool" name="AllowNull"/>
            <Option value="0" type="double" name="Min"/>
            <Option value="1" type="int" name="Precision"/>
            <Option value="0.1" type="double" name="Step"/>
            <Option value="SpinBox" type="QString" name="Style"/>
          </Option>
        </config>
      </editWidget>
    </field>
    <field name="width_m" configurationFlags="None">
      <editWidget type="Range">
        <config>
          <Option type="Map">
            <Option value="true" type="bool" name="AllowNull"/>
            <Option value="0" type="double" name="Min"/>
            <Option value="1" type="int" name="Precision"/>
            <Option value="0.1" type="double" name="Step"/>
            <Option value="SpinBox" type="QString" name="Style"/>
          </Option>
        </config>
      </editWidget>
    </field>
    <field name="size_class" configurationFlags="None">
      <editWidget type="">
        <config>
          <Option/>
        </config>
      </editWidget>
    </field>
  </fieldConfiguration>
  <aliases>
    <alias index="0" name="Score" field="score"/>
    <alias index="1" name="Gate score" field="patch_score"/>
    <alias index="2" name="Label" field="label"/>
    <alias index="3" name="Source raster" field="source"/>
    <alias index="4" name="Length (m)" field="length_m"/>
    <alias index="5" name="Width (m)" field="width_m"/>
    <alias index="6" name="Size class" field="size_class"/>
  </aliases>
  <defaults>
    <default field="score" applyOnUpdate="0" expression=""/>
    <default field="patch_score" applyOnUpdate="0" expression=""/>
    <default field="label" applyOnUpdate="0" expression=""/>
    <default field="source" applyOnUpdate="0" expression=""/>
    <default field="length_m" applyOnUpdate="0" expression=""/>
    <default field="width_m" applyOnUpdate="0" expression=""/>
    <default field="size_class" applyOnUpdate="0" expression=""/>
  </defaults>
  <constraints>
    <constraint field="score" constraints="0" unique_strength="0" exp_strength="0" notnull_strength="0"/>
    <constraint field="patch_score" constraints="0" unique_strength="0" exp_strength="0" notnull_strength="0"/>
    <constraint field="label" constraints="0" unique_strength="0" exp_strength="0" notnull_strength="0"/>
    <constraint field="source" constraints="0" unique_strength="0" exp_strength="0" notnull_strength="0"/>
    <constraint field="length_m" constraints="0" unique_strength="0" exp_strength="0" notnull_strength="0"/>
    <constraint field="width_m" constraints="0" unique_strength="0" exp_strength="0" notnull_strength="0"/>
    <constraint field="size_class" constraints="0" unique_strength="0" exp_strength="0" notnull_strength="0"/>
  </constraints>
  <constraintExpressions>
    <constraint field="score" desc="" exp=""/>
    <constraint field="patch_score" desc="" exp=""/>
    <constraint field="label" desc="" exp=""/>
    <constraint field="source" desc="" exp=""/>
    <constraint field="length_m" desc="" exp=""/>
    <constraint field="width_m" desc="" exp=""/>
    <constraint field="size_class" desc="" exp=""/>
  </constraintExpressions>
  <expressionfields/>
  <editform tolerant="1"></editform>
  <editforminit/>
  <editforminitcodesource>0</editforminitcodesource>
  <editforminitfilepath></editforminitfilepath>
  <editforminitcode><![CDATA[]]></editforminitcode>
  <featformsuppress>0</featformsuppress>
  <editorlayout>generatedlayout</editorlayout>
  <editable/>
  <labelOnTop/>
  <reuseLastValue/>
  <dataDefinedFieldProperties/>
  <widgets/>
  <previewExpression>'aircraft ' || format_number("score", 2)</previewExpression>
  <mapTip>&lt;b>Aircraft&lt;/b>, score [% format_number("score", 3) %]&lt;br>gate score [% format_number("patch_score", 3) %]&lt;br>[% "size_class" %], [% format_number("length_m", 0) %] m × [% format_number("width_m", 0) %] m&lt;br>[% "source" %]</mapTip>
  <layerGeometryType>2</layerGeometryType>
</qgis>
